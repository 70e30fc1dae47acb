export { startTelemetry } from './sdk';
export type { Telemetry, TelemetryOptions, SamplerName } from './types';
export { annotateServerSpan, activeTraceId, endSpan, recordError, serverSpan, errorType, setHttpRoute, annotateActiveSpan, recordActiveError } from './span';
export { getRequestId, setRequestId, resolveRequestId, isValidRequestId, REQUEST_ID_HEADER } from './request-id';
export * from './attributes';
export { excludeServerFromTracing } from './instrumentations';
export { isValidTraceId, withPinnedTraceId } from './trace-id';
export { FORCE_SAMPLE_HEADER } from './force-sample';
export { tracingFailed } from './failure';
