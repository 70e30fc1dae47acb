/**
 * The pieces the tracer provider is built from, each chosen by its OTEL_* variable with
 * the names and meanings @opentelemetry/sdk-node gives them: propagators, resource
 * detectors, exporters and their span processors.
 */
import type { TextMapPropagator } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OTLPGrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { containerDetector } from '@opentelemetry/resource-detector-container';
import {
  hostDetector,
  osDetector,
  processDetector,
  serviceInstanceIdDetector,
  type ResourceDetector,
} from '@opentelemetry/resources';
import type { MeterProvider } from '@opentelemetry/api';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { ForceSamplePropagator } from '../sampling/force-sample';
import { JaegerPropagator } from './jaeger-propagator';
import { RequestIdPropagator } from '../request-id';
import { createProtobufSpanSerializer } from '../export/protobuf-spans';
import { ResilientExporter, SentSpanCounter } from '../export/resilient-exporter';
import { SpanHygieneProcessor } from '../export/span-hygiene';
import type { ResourceDetectorName, TelemetryOptions } from '../types';

export function createPropagator(names: TelemetryOptions['propagators']): TextMapPropagator {
  const propagators: TextMapPropagator[] = [];
  if (!names.includes('none')) {
    const factories = {
      tracecontext: () => new W3CTraceContextPropagator(),
      baggage: () => new W3CBaggagePropagator(),
      b3: () => new B3Propagator(),
      b3multi: () => new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }),
      jaeger: () => new JaegerPropagator(),
    } as const;
    for (const name of names) if (name !== 'none') propagators.push(factories[name]());
  }
  propagators.push(new RequestIdPropagator(), new ForceSamplePropagator());
  return new CompositePropagator({ propagators });
}

const DETECTORS: Record<Exclude<ResourceDetectorName, 'all' | 'none' | 'env'>, ResourceDetector> = {
  host: hostDetector,
  os: osDetector,
  process: processDetector,
  serviceinstance: serviceInstanceIdDetector,
  container: containerDetector,
};

/**
 * `OTEL_NODE_RESOURCE_DETECTORS`, with the names @opentelemetry/sdk-node and
 * auto-instrumentations-node use. `env` has nothing to add: OTEL_RESOURCE_ATTRIBUTES and
 * OTEL_SERVICE_NAME always apply (the specification reads them whatever the detectors).
 */
export function resourceDetectors(names: readonly ResourceDetectorName[]): ResourceDetector[] {
  if (names.includes('none')) return [];
  if (names.includes('all')) return Object.values(DETECTORS);
  return names.flatMap((name) => (name === 'env' || name === 'all' || name === 'none' ? [] : [DETECTORS[name]]));
}

function createOtlpExporter(options: TelemetryOptions): SpanExporter {
  const shared = {
    timeoutMillis: options.exportTimeoutMs,
    ...(options.compression ? { compression: options.compression } : {}),
  };
  if (options.protocol === 'grpc')
    return new OTLPGrpcTraceExporter(shared as ConstructorParameters<typeof OTLPGrpcTraceExporter>[0]);
  if (options.protocol === 'http/json')
    return new OTLPJsonTraceExporter(shared as ConstructorParameters<typeof OTLPJsonTraceExporter>[0]);
  return otlpProtobufExporter(shared as Parameters<typeof convertLegacyHttpOptions>[0]);
}

/**
 * What `@opentelemetry/exporter-trace-otlp-proto` builds (the same options, environment
 * variables, transport, retries and headers), with our one-pass serializer in place of
 * upstream's: the bytes are the same, the CPU per span is lower (export/protobuf-spans.ts).
 */
function otlpProtobufExporter(config: Parameters<typeof convertLegacyHttpOptions>[0]): SpanExporter {
  return new OTLPExporterBase(
    createOtlpHttpExportDelegate(
      convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
      createProtobufSpanSerializer(),
      'otlp_http_span_exporter',
      TraceExporterMetricsHelper,
      undefined,
    ),
  );
}

/**
 * Memory: spans waiting for export sit in the batch queue (at most OTEL_BSP_MAX_QUEUE_SIZE,
 * beyond which new spans are dropped, as the specification says) and, once handed over,
 * in the outage buffer (at most TRACE_EXPORT_BUFFER_SPANS, oldest dropped). The two
 * bounds add up to the one budget the start-up line reports.
 */
/** `meterProvider`: where the batch processors report their queue and drops (`otel.sdk.processor.*`). */
export function createSpanProcessors(
  options: TelemetryOptions,
  meterProvider?: MeterProvider,
): { processors: SpanProcessor[]; otlp: ResilientExporter | undefined } {
  // first, so that every exporter sees trimmed, redacted spans
  const processors: SpanProcessor[] = [new SpanHygieneProcessor()];
  let otlp: ResilientExporter | undefined;
  if (options.exporters.includes('none')) return { processors, otlp };
  if (options.exporters.includes('otlp')) {
    const sent = new SentSpanCounter();
    processors.push(sent);
    otlp = new ResilientExporter(createOtlpExporter(options), {
      sentSpans: () => sent.count,
      logger: options.logger,
      target: options.exportTarget,
      maxBufferedSpans: options.buffer.maxSpans,
      maxBatchSize: options.batch.maxExportBatchSize,
      exportTimeoutMs: options.batch.exportTimeoutMillis,
      maxRetryDelayMs: options.buffer.maxRetryDelayMs,
    });
    processors.push(new BatchSpanProcessor({ exporter: otlp, ...options.batch, selfObsMeterProvider: meterProvider }));
  }
  if (options.exporters.includes('zipkin')) {
    // the stock exporter: Zipkin is for local setups, without the outage buffer
    const zipkin = new ZipkinExporter({
      serviceName: options.resource.serviceName,
      ...(options.zipkinEndpoint ? { url: options.zipkinEndpoint } : {}),
    });
    processors.push(
      new BatchSpanProcessor({ exporter: zipkin, ...options.batch, selfObsMeterProvider: meterProvider }),
    );
  }
  if (options.exporters.includes('console'))
    processors.push(new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }));
  return { processors, otlp };
}
