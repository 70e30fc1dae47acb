export type { Telemetry, TelemetryOptions, SamplerName } from './types';
export {
  annotateServerSpan,
  activeTraceId,
  endSpan,
  recordError,
  serverSpan,
  errorType,
  setHttpRoute,
  annotateActiveSpan,
  recordActiveError,
} from './span';
export { getRequestId, setRequestId, resolveRequestId, isValidRequestId, REQUEST_ID_HEADER } from './request-id';
export * from './attributes';
export { isValidTraceId, withPinnedTraceId } from './trace-id';
export { FORCE_SAMPLE_HEADER } from './sampling/force-sample';
export { tracingFailed } from './failure';
export {
  countSocketConnection,
  recordSocketEvent,
  recordPlanJob,
  observePlanQueueDepth,
  recordModelCall,
  countSpansExported,
} from './metrics/instruments';
