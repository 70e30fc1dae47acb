import { ROOT_CONTEXT, context, metrics, type MeterProvider as ApiMeterProvider } from '@opentelemetry/api';
import {
  AggregationTemporalityPreference,
  OTLPMetricExporterBase,
  type OTLPMetricExporterOptions,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { convertLegacyOtlpGrpcOptions, createOtlpGrpcExportDelegate } from '@opentelemetry/otlp-grpc-exporter-base';
import {
  JsonMetricsSerializer,
  MetricsExporterMetricsHelper,
  ProtobufMetricsSerializer,
} from '@opentelemetry/otlp-transformer';
import type { Resource } from '@opentelemetry/resources';
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type IMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import type { Logger } from 'pino';
import { ExemplarMeterProvider } from './exemplar-provider';
import { ExemplarStore, type ExemplarFilter } from './exemplars';
import { OpenMetricsPrometheusExporter } from './openmetrics';
import { withExemplars } from './otlp-exemplars';

export type MetricsExporterName = 'otlp' | 'prometheus' | 'console' | 'none';

export interface MetricsOptions {
  /** `OTEL_METRICS_EXPORTER` names; `none` alone turns metrics off. */
  exporters: readonly MetricsExporterName[];
  /** `OTEL_EXPORTER_OTLP_METRICS_PROTOCOL` (or the general one). Endpoint, headers, TLS, compression and timeout are read by the exporter itself. */
  protocol: 'http/protobuf' | 'http/json' | 'grpc';
  /** `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`: Datadog wants `delta`. */
  temporality: 'cumulative' | 'delta' | 'lowmemory';
  /** `OTEL_METRICS_EXEMPLAR_FILTER`: histogram measurements in sampled spans (`trace_based`), all, or none become exemplars. */
  exemplarFilter: ExemplarFilter;
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
  /** The SDK's provider, wrapped so that histograms keep exemplars (unless the filter is `always_off`). */
  readonly provider: ApiMeterProvider;
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

/**
 * The upstream OTLP metric exporters as their packages build them (transport, retries, headers,
 * TLS and the environment variables), with a serializer that adds the exemplars.
 */
function otlpExporter(options: MetricsOptions, exemplars: ExemplarStore | undefined): PushMetricExporter {
  const config: OTLPMetricExporterOptions = { temporalityPreference: TEMPORALITY[options.temporality] };
  const json = options.protocol === 'http/json';
  const base = json ? JsonMetricsSerializer : ProtobufMetricsSerializer;
  const serializer =
    exemplars === undefined ? base : withExemplars(base, json ? 'json' : 'protobuf', exemplars.reader({ fresh: true }));
  const delegate =
    options.protocol === 'grpc'
      ? createOtlpGrpcExportDelegate(
          convertLegacyOtlpGrpcOptions(config, 'METRICS'),
          serializer,
          'otlp_grpc_metric_exporter',
          MetricsExporterMetricsHelper,
          undefined,
          'MetricsExportService',
          '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
        )
      : createOtlpHttpExportDelegate(
          convertLegacyHttpOptions(config, 'METRICS', 'v1/metrics', {
            'Content-Type': json ? 'application/json' : 'application/x-protobuf',
          }),
          serializer,
          'otlp_http_metric_exporter',
          MetricsExporterMetricsHelper,
          undefined,
        );
  return new OTLPMetricExporterBase(delegate, config);
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
  const exemplars = options.exemplarFilter === 'always_off' ? undefined : new ExemplarStore();
  if (names.has('otlp')) readers.push(periodic(otlpExporter(options, exemplars), options));
  if (names.has('console')) readers.push(periodic(new ConsoleMetricExporter(), options));
  if (names.has('prometheus')) {
    const { host, port } = options.prometheus;
    const onStart = (error: unknown) => {
      if (error)
        context.with(ROOT_CONTEXT, () =>
          options.logger.warn(
            { component: 'otel', err: error, host, port },
            'the Prometheus metrics endpoint could not start',
          ),
        );
    };
    const exporter =
      exemplars === undefined
        ? new PrometheusExporter({ host, port }, onStart)
        : new OpenMetricsPrometheusExporter({ host, port }, exemplars.reader({ fresh: false }), onStart);
    readers.push(exporter);
    prometheusUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`;
  }
  const sdkProvider = new MeterProvider({ resource: options.resource, readers });
  const provider =
    exemplars === undefined || options.exemplarFilter === 'always_off'
      ? sdkProvider
      : new ExemplarMeterProvider(sdkProvider, exemplars, options.exemplarFilter);
  metrics.setGlobalMeterProvider(provider);
  options.logger.info(
    {
      component: 'otel',
      exporters: [...names].filter((name) => name !== 'none'),
      ...(names.has('otlp')
        ? { target: options.otlpTarget, intervalMs: options.intervalMs, temporality: options.temporality }
        : {}),
      exemplarFilter: options.exemplarFilter,
      ...(prometheusUrl !== undefined ? { prometheus: prometheusUrl } : {}),
    },
    'metrics started',
  );
  return {
    provider,
    prometheusUrl,
    forceFlush: () => sdkProvider.forceFlush(),
    shutdown: () => sdkProvider.shutdown(),
  };
}
