import type { Logger } from 'pino';

export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

export interface TelemetryOptions {
  /** `OTEL_SDK_DISABLED`: nothing patched, nothing exported. The request-id context still works. */
  disabled: boolean;
  /** Resource: `service.name` (OTEL_SERVICE_NAME already applied), version, environment, extra attributes (OTEL_RESOURCE_ATTRIBUTES, winning over the defaults). */
  resource: { serviceName: string; serviceVersion: string; environment: string; attributes: Record<string, string> };
  /** `OTEL_TRACES_EXPORTER` names. */
  exporters: ReadonlyArray<'otlp' | 'console' | 'none'>;
  /** `OTEL_EXPORTER_OTLP_PROTOCOL`. Endpoint, headers, compression and timeout are read by the exporter itself. */
  protocol: 'http/protobuf' | 'http/json';
  /** Where OTLP goes, for log lines only. */
  exportTarget: string;
  /** The spec sampler and ratio, plus the trust boundary: forced and remote-sampled decisions allowed per second (and in a burst). */
  sampler: { name: SamplerName; ratio: number; trustedPerSecond: number; trustedBurst: number };
  /** Outage survival: spans kept while the backend is down, and the longest pause between attempts. */
  buffer: { maxSpans: number; maxRetryDelayMs: number };
  batch: { scheduledDelayMillis: number; maxQueueSize: number; maxExportBatchSize: number; exportTimeoutMillis: number };
  /** `OTEL_PROPAGATORS` names (the request-id propagator is always added). */
  propagators: ReadonlyArray<'tracecontext' | 'baggage' | 'none'>;
  /** `OTEL_LOG_LEVEL`. */
  diagLogLevel: string;
  /** Incoming paths served without a span (health probes). */
  untracedPaths: readonly string[];
  /** Record SQL parameter values on pg spans. */
  captureSqlParameters: boolean;
  logger: Logger;
}

export interface Telemetry {
  readonly enabled: boolean;
  /** Exports what is queued now. */
  forceFlush(): Promise<void>;
  /** Flushes and stops the pipeline; resolves (never rejects) within `timeoutMs`, with what was and was not delivered. */
  shutdown(timeoutMs: number): Promise<Record<string, number> | undefined>;
}
