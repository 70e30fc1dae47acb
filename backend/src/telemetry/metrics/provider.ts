import { ROOT_CONTEXT, context, metrics } from '@opentelemetry/api';
import { OTLPMetricExporter as OTLPGrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter as OTLPJsonMetricExporter,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OTLPProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { Resource } from '@opentelemetry/resources';
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type IMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import type { Logger } from 'pino';

export type MetricsExporterName = 'otlp' | 'prometheus' | 'console' | 'none';

export interface MetricsOptions {
  /** `OTEL_METRICS_EXPORTER` names; `none` alone turns metrics off. */
  exporters: readonly MetricsExporterName[];
  /** `OTEL_EXPORTER_OTLP_METRICS_PROTOCOL` (or the general one). Endpoint, headers, TLS, compression and timeout are read by the exporter itself. */
  protocol: 'http/protobuf' | 'http/json' | 'grpc';
  /** `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`: Datadog wants `delta`. */
  temporality: 'cumulative' | 'delta' | 'lowmemory';
  /** `OTEL_METRIC_EXPORT_INTERVAL` / `OTEL_METRIC_EXPORT_TIMEOUT`, ms. */
  intervalMs: number;
  timeoutMs: number;
  /** `OTEL_EXPORTER_PROMETHEUS_HOST` / `_PORT`: where `/metrics` is served. */
  prometheus: { host: string; port: number };
  /** Where OTLP metrics go, for the log line only. */
  otlpTarget: string;
  resource: Resource;
  logger: Logger;
}

export interface Metrics {
  readonly provider: MeterProvider;
  /** `http://host:port/metrics` when the Prometheus endpoint serves. */
  readonly prometheusUrl: string | undefined;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

const TEMPORALITY = {
  cumulative: AggregationTemporalityPreference.CUMULATIVE,
  delta: AggregationTemporalityPreference.DELTA,
  lowmemory: AggregationTemporalityPreference.LOWMEMORY,
} as const;

function otlpExporter(options: MetricsOptions): PushMetricExporter {
  const config = { temporalityPreference: TEMPORALITY[options.temporality] };
  if (options.protocol === 'grpc') return new OTLPGrpcMetricExporter(config);
  if (options.protocol === 'http/json') return new OTLPJsonMetricExporter(config);
  return new OTLPProtoMetricExporter(config);
}

function periodic(exporter: PushMetricExporter, options: MetricsOptions): IMetricReader {
  return new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: options.intervalMs,
    // the SDK refuses a timeout longer than the interval
    exportTimeoutMillis: Math.min(options.timeoutMs, options.intervalMs),
  });
}

/**
 * The meter provider beside the tracer provider, configured by the standard variables.
 * Metrics are recorded for every request, sampled or not: they are what alerts and
 * dashboards read when only a tenth of the traces is kept. Registered globally, so the
 * instrumentations (http, pg, runtime) and our own instruments record through it.
 * Returns undefined when `OTEL_METRICS_EXPORTER=none`.
 */
export function startMetrics(options: MetricsOptions): Metrics | undefined {
  const names = new Set(options.exporters);
  if (names.size === 0 || (names.size === 1 && names.has('none'))) return undefined;
  const readers: IMetricReader[] = [];
  let prometheusUrl: string | undefined;
  if (names.has('otlp')) readers.push(periodic(otlpExporter(options), options));
  if (names.has('console')) readers.push(periodic(new ConsoleMetricExporter(), options));
  if (names.has('prometheus')) {
    const { host, port } = options.prometheus;
    const exporter = new PrometheusExporter({ host, port }, (error) => {
      if (error)
        context.with(ROOT_CONTEXT, () =>
          options.logger.warn(
            { component: 'otel', err: error, host, port },
            'the Prometheus metrics endpoint could not start',
          ),
        );
    });
    readers.push(exporter);
    prometheusUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`;
  }
  const provider = new MeterProvider({ resource: options.resource, readers });
  metrics.setGlobalMeterProvider(provider);
  options.logger.info(
    {
      component: 'otel',
      exporters: [...names].filter((name) => name !== 'none'),
      ...(names.has('otlp')
        ? { target: options.otlpTarget, intervalMs: options.intervalMs, temporality: options.temporality }
        : {}),
      ...(prometheusUrl !== undefined ? { prometheus: prometheusUrl } : {}),
    },
    'metrics started',
  );
  return {
    provider,
    prometheusUrl,
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
