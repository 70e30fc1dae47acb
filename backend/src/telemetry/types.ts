import type { Logger } from 'pino';
import type { MetricsOptions } from './metrics/provider';

export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

export type ExporterName = 'otlp' | 'zipkin' | 'console' | 'none';
export type PropagatorName = 'tracecontext' | 'baggage' | 'b3' | 'b3multi' | 'jaeger' | 'none';
export type ResourceDetectorName = 'env' | 'host' | 'os' | 'process' | 'serviceinstance' | 'container' | 'all' | 'none';
export type InstrumentationName = 'http' | 'pg' | 'ioredis' | 'undici' | 'runtime-node';

/** `OTEL_*SPAN*`/`OTEL_ATTRIBUTE_*` limits; undefined leaves the SDK default. */
export interface SpanLimitOptions {
  attributeValueLengthLimit?: number;
  attributeCountLimit?: number;
  eventCountLimit?: number;
  linkCountLimit?: number;
  attributePerEventCountLimit?: number;
  attributePerLinkCountLimit?: number;
}

export interface TelemetryOptions {
  /** `OTEL_SDK_DISABLED`: nothing patched, nothing exported. The request-id context still works. */
  disabled: boolean;
  /** Resource: `service.name` (OTEL_SERVICE_NAME already applied), version, environment, extra attributes (OTEL_RESOURCE_ATTRIBUTES, winning over the defaults). */
  resource: { serviceName: string; serviceVersion: string; environment: string; attributes: Record<string, string> };
  /** `OTEL_NODE_RESOURCE_DETECTORS`. */
  resourceDetectors: readonly ResourceDetectorName[];
  /** `OTEL_TRACES_EXPORTER` names. */
  exporters: readonly ExporterName[];
  /** `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL`. Endpoint, headers and certificates are read by the exporter itself. */
  protocol: 'http/protobuf' | 'http/json' | 'grpc';
  /** `OTEL_EXPORTER_OTLP_(TRACES_)COMPRESSION` and `_TIMEOUT`, parsed leniently, handed to the exporter. */
  compression: 'gzip' | 'none' | undefined;
  exportTimeoutMs: number;
  /** Where OTLP goes, for log lines only. */
  exportTarget: string;
  /** `OTEL_EXPORTER_ZIPKIN_ENDPOINT` (the exporter's default otherwise). */
  zipkinEndpoint?: string;
  /**
   * The spec sampler and ratio (and whether they were chosen by NODE_ENV=production), plus the trust boundary:
   * forced and remote-sampled decisions allowed per second (and in a burst); `trustedEdge` follows sampled parents freely.
   */
  sampler: {
    name: SamplerName;
    ratio: number;
    defaultedBy?: string;
    trustedPerSecond: number;
    trustedBurst: number;
    trustedEdge: boolean;
  };
  /** Outage survival: spans kept while the backend is down, and the longest pause between attempts. */
  buffer: { maxSpans: number; maxRetryDelayMs: number };
  batch: {
    scheduledDelayMillis: number;
    maxQueueSize: number;
    maxExportBatchSize: number;
    exportTimeoutMillis: number;
  };
  spanLimits: SpanLimitOptions;
  /** The meter provider's settings (`OTEL_METRICS_EXPORTER`, `OTEL_METRIC_EXPORT_*`, `OTEL_EXPORTER_PROMETHEUS_*`, the OTLP metrics variables). */
  metrics: Omit<MetricsOptions, 'resource' | 'logger'>;
  /** `OTEL_PROPAGATORS` names (the request-id propagator is always added). */
  propagators: readonly PropagatorName[];
  /** `OTEL_NODE_ENABLED_INSTRUMENTATIONS` minus `OTEL_NODE_DISABLED_INSTRUMENTATIONS`. */
  instrumentations: readonly InstrumentationName[];
  /** `OTEL_LOG_LEVEL`: the diagnostics logger's own level. */
  diagLogLevel: string;
  /** Incoming paths served without a span (health probes). */
  untracedPaths: readonly string[];
  /** Record SQL parameter values on pg spans. */
  captureSqlParameters: boolean;
  logger: Logger;
  /** Writes OpenTelemetry diagnostics (and configuration warnings) at `OTEL_LOG_LEVEL`, whatever the app's level. */
  diagLogger: Logger;
}

export interface Telemetry {
  readonly enabled: boolean;
  /** Exports what is queued now. */
  forceFlush(): Promise<void>;
  /** Flushes and stops the pipeline; resolves (never rejects) within `timeoutMs`, with what was and was not delivered. */
  shutdown(timeoutMs: number): Promise<Record<string, number> | undefined>;
}
