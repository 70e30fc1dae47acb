import { ROOT_CONTEXT, context, diag, propagation, trace, type TextMapPropagator } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator, setGlobalErrorHandler } from '@opentelemetry/core';
import { OTLPTraceExporter as OTLPGrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { containerDetector } from '@opentelemetry/resource-detector-container';
import {
  defaultResource,
  detectResources,
  hostDetector,
  osDetector,
  processDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
  type ResourceDetector,
} from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  RandomIdGenerator,
  SimpleSpanProcessor,
  TracerProvider,
  type IdGenerator,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { ATTR_DEPLOYMENT_ENVIRONMENT_NAME, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from './attributes';
import { DIAG_LEVELS, diagLoggerFor } from './diag';
import { ForceSamplePropagator } from './force-sample';
import { JaegerPropagator } from './jaeger-propagator';
import { SpanHygieneProcessor } from './span-hygiene';
import { ResilientExporter } from './resilient-exporter';
import { AppSampler, TokenBucket } from './sampler';
import { CRITICAL_OPERATIONS, HOUSEKEEPING_ROOT_SPANS } from './sampling-rules';
import { createInstrumentations } from './instrumentations';
import { RequestIdPropagator } from './request-id';
import { takePinnedTraceId } from './trace-id';
import type { ResourceDetectorName, Telemetry, TelemetryOptions } from './types';

/** Random ids, except a trace id pinned by `withPinnedTraceId` for the next root span. */
class PinnableIdGenerator implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  generateTraceId(): string {
    return takePinnedTraceId() ?? this.random.generateTraceId();
  }
  generateSpanId(): string {
    return this.random.generateSpanId();
  }
}

function createPropagator(names: TelemetryOptions['propagators']): TextMapPropagator {
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
function resourceDetectors(names: readonly ResourceDetectorName[]): ResourceDetector[] {
  if (names.includes('none')) return [];
  if (names.includes('all')) return Object.values(DETECTORS);
  return names.flatMap((name) => (name === 'env' || name === 'all' || name === 'none' ? [] : [DETECTORS[name]]));
}

function createOtlpExporter(options: TelemetryOptions): SpanExporter {
  const shared = { timeoutMillis: options.exportTimeoutMs, ...(options.compression ? { compression: options.compression } : {}) };
  if (options.protocol === 'grpc') return new OTLPGrpcTraceExporter(shared as ConstructorParameters<typeof OTLPGrpcTraceExporter>[0]);
  if (options.protocol === 'http/json') return new OTLPJsonTraceExporter(shared as ConstructorParameters<typeof OTLPJsonTraceExporter>[0]);
  return new OTLPProtoTraceExporter(shared as ConstructorParameters<typeof OTLPProtoTraceExporter>[0]);
}

/**
 * Memory: spans waiting for export sit in the batch queue (at most OTEL_BSP_MAX_QUEUE_SIZE,
 * beyond which new spans are dropped, as the specification says) and, once handed over,
 * in the outage buffer (at most TRACE_EXPORT_BUFFER_SPANS, oldest dropped). The two
 * bounds add up to the one budget the start-up line reports.
 */
function createSpanProcessors(options: TelemetryOptions): { processors: SpanProcessor[]; otlp: ResilientExporter | undefined } {
  // first, so that every exporter sees trimmed, redacted spans
  const processors: SpanProcessor[] = [new SpanHygieneProcessor()];
  let otlp: ResilientExporter | undefined;
  if (options.exporters.includes('none')) return { processors, otlp };
  if (options.exporters.includes('otlp')) {
    otlp = new ResilientExporter(createOtlpExporter(options), {
      logger: options.logger,
      target: options.exportTarget,
      maxBufferedSpans: options.buffer.maxSpans,
      maxBatchSize: options.batch.maxExportBatchSize,
      exportTimeoutMs: options.batch.exportTimeoutMillis,
      maxRetryDelayMs: options.buffer.maxRetryDelayMs,
    });
    processors.push(new BatchSpanProcessor({ exporter: otlp, ...options.batch }));
  }
  if (options.exporters.includes('zipkin')) {
    // the stock exporter: Zipkin is for local setups, without the outage buffer
    const zipkin = new ZipkinExporter({ serviceName: options.resource.serviceName, ...(options.zipkinEndpoint ? { url: options.zipkinEndpoint } : {}) });
    processors.push(new BatchSpanProcessor({ exporter: zipkin, ...options.batch }));
  }
  if (options.exporters.includes('console')) processors.push(new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }));
  return { processors, otlp };
}

function withTimeout(work: Promise<unknown>, timeoutMs: number, onTimeout: () => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      onTimeout();
      resolve();
    }, timeoutMs);
    timer.unref();
    work.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}

/** Logs each distinct SDK error at most once a minute: a dead backend must not flood the log. */
function throttledErrorHandler(options: TelemetryOptions): (error: unknown) => void {
  const lastSeen = new Map<string, number>();
  return (error) => {
    const message = error instanceof Error ? error.message : String(error);
    const now = Date.now();
    if ((lastSeen.get(message) ?? 0) > now - 60_000) return;
    lastSeen.set(message, now);
    context.with(ROOT_CONTEXT, () =>
      options.logger.warn({ component: 'otel', err: error instanceof Error ? error : undefined }, `telemetry error: ${message}`),
    );
  };
}

/**
 * Starts tracing: context manager, propagators, tracer provider, then the
 * instrumentations, which patch modules loaded from here on. Traces only: no meter or
 * logger provider is created, so no OTLP metric or log exporter can start.
 */
/** Whether an OpenTelemetry SDK was registered before us (preloaded with --require or --import). */
function externalSdkRegistered(): boolean {
  const delegate = (trace.getTracerProvider() as { getDelegate?: () => object }).getDelegate?.();
  return delegate !== undefined && delegate.constructor.name !== 'NoopTracerProvider';
}

export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (!options.disabled && externalSdkRegistered()) {
    // e.g. node --require @opentelemetry/auto-instrumentations-node/register: two SDKs
    // would patch every module twice; the one the operator chose wins
    options.logger.warn({ component: 'otel' }, 'an OpenTelemetry SDK is already registered (preloaded); this app\'s own tracing setup stands aside');
    return { enabled: true, forceFlush: async () => {}, shutdown: async () => undefined };
  }
  // The context manager is kept even when tracing is disabled: the request id rides on it.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  if (options.disabled) {
    options.logger.info({ component: 'otel' }, 'tracing disabled (OTEL_SDK_DISABLED=true)');
    return { enabled: false, forceFlush: async () => {}, shutdown: async () => undefined };
  }

  diag.setLogger(diagLoggerFor(options.diagLogger), { logLevel: DIAG_LEVELS[options.diagLogLevel] ?? DIAG_LEVELS.info });
  setGlobalErrorHandler(throttledErrorHandler(options));

  const detected = detectResources({ detectors: resourceDetectors(options.resourceDetectors) });
  const resource = defaultResource()
    .merge(detected)
    .merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: options.resource.serviceName,
        [ATTR_SERVICE_VERSION]: options.resource.serviceVersion,
        [ATTR_DEPLOYMENT_ENVIRONMENT_NAME]: options.resource.environment,
      }),
    )
    .merge(resourceFromAttributes(options.resource.attributes));

  const { processors, otlp } = createSpanProcessors(options);
  const provider = new TracerProvider({
    resource,
    sampler: new AppSampler({
      name: options.sampler.name,
      ratio: options.sampler.ratio,
      criticalOperations: CRITICAL_OPERATIONS,
      housekeeping: HOUSEKEEPING_ROOT_SPANS,
      trusted: new TokenBucket(options.sampler.trustedPerSecond, options.sampler.trustedBurst),
      trustRemoteSampled: options.sampler.trustedEdge,
    }),
    spanLimits: options.spanLimits,
    spanProcessors: processors,
    idGenerator: new PinnableIdGenerator(),
  });
  void otlp?.checkReachable();
  propagation.setGlobalPropagator(createPropagator(options.propagators));
  trace.setGlobalTracerProvider(provider);
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: createInstrumentations(options),
  });

  const { sampler } = options;
  options.logger.info(
    {
      component: 'otel',
      service: options.resource.serviceName,
      exporters: options.exporters,
      target: options.exporters.includes('otlp') ? options.exportTarget : undefined,
      protocol: options.exporters.includes('otlp') ? options.protocol : undefined,
      sampler: sampler.name,
      ratio: sampler.ratio,
      samplerDefaultedBy: sampler.defaultedBy,
      trustedEdge: sampler.trustedEdge,
      propagators: options.propagators,
      instrumentations: options.instrumentations,
      memoryBudgetSpans: otlp ? options.batch.maxQueueSize + options.buffer.maxSpans : undefined,
    },
    sampler.defaultedBy === undefined
      ? 'tracing started'
      : `tracing started; ${sampler.defaultedBy} sets the sampler to ${sampler.name} at ${sampler.ratio} (OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG override it)`,
  );

  return {
    enabled: true,
    forceFlush: async () => {
      await provider.forceFlush();
      await otlp?.forceFlush();
    },
    shutdown: async (timeoutMs) => {
      otlp?.beginShutdown(Date.now() + timeoutMs - 50);
      await withTimeout(provider.shutdown(), timeoutMs, () =>
        options.logger.warn({ component: 'otel', timeoutMs }, 'telemetry shutdown timed out; unexported spans are lost'),
      );
      return otlp?.summary;
    },
  };
}
