import { ROOT_CONTEXT, context, diag, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { setGlobalErrorHandler } from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { defaultResource, detectResources, resourceFromAttributes } from '@opentelemetry/resources';
import { RandomIdGenerator, TracerProvider, type IdGenerator } from '@opentelemetry/sdk-trace';
import { ATTR_DEPLOYMENT_ENVIRONMENT_NAME, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '../attributes';
import { createPropagator, createSpanProcessors, resourceDetectors } from './components';
import { DIAG_LEVELS, diagLoggerFor } from './diag';
import { AppSampler, TokenBucket } from '../sampling/sampler';
import { CRITICAL_OPERATIONS, HOUSEKEEPING_ROOT_SPANS } from '../sampling/rules';
import { createInstrumentations } from './instrumentations';
import { summingMeterProvider } from './summed-counters';
import { fastPrimitiveAttributes } from './primitive-attributes';
import { startMetrics } from '../metrics/provider';
import { cacheAttributeHashes } from '../metrics/attribute-hash';
import { takePinnedTraceId } from '../trace-id';
import type { Telemetry, TelemetryOptions } from '../types';

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
      options.logger.warn(
        { component: 'otel', err: error instanceof Error ? error : undefined },
        `telemetry error: ${message}`,
      ),
    );
  };
}

/** Whether an OpenTelemetry SDK was registered before us (preloaded with --require or --import). */
function externalSdkRegistered(): boolean {
  const delegate = (trace.getTracerProvider() as { getDelegate?: () => object }).getDelegate?.();
  return delegate !== undefined && delegate.constructor.name !== 'NoopTracerProvider';
}

/**
 * Starts telemetry: context manager, the meter provider (unless OTEL_METRICS_EXPORTER=none),
 * propagators, the tracer provider, then the instrumentations, which patch modules loaded
 * from here on. No logger provider: logs are JSON lines on stdout carrying the trace ids.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (!options.disabled && externalSdkRegistered()) {
    // e.g. node --require @opentelemetry/auto-instrumentations-node/register: two SDKs
    // would patch every module twice; the one the operator chose wins
    options.logger.warn(
      { component: 'otel' },
      "an OpenTelemetry SDK is already registered (preloaded); this app's own tracing setup stands aside",
    );
    return { enabled: true, forceFlush: async () => {}, shutdown: async () => undefined };
  }
  // The context manager is kept even when tracing is disabled: the request id rides on it.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  if (options.disabled) {
    options.logger.info({ component: 'otel' }, 'tracing disabled (OTEL_SDK_DISABLED=true)');
    return { enabled: false, forceFlush: async () => {}, shutdown: async () => undefined };
  }

  diag.setLogger(diagLoggerFor(options.diagLogger), {
    logLevel: DIAG_LEVELS[options.diagLogLevel] ?? DIAG_LEVELS.info,
  });
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

  // metrics first: the tracer provider, the batch processors and the instrumentations report through it
  // before the meter provider is made: its series found by a hash cached per frozen attribute set
  cacheAttributeHashes();
  // span attributes that are strings, numbers or booleans checked without allocating (primitive-attributes.ts)
  fastPrimitiveAttributes();
  const metered = startMetrics({ ...options.metrics, resource, logger: options.logger });
  const { processors, otlp } = createSpanProcessors(options, metered?.provider);
  const provider = new TracerProvider({
    // its per-span counters summed in place, reported at collection (see summed-counters.ts)
    meterProvider: metered ? summingMeterProvider(metered.provider) : undefined,
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
    meterProvider: metered?.provider,
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
      : `tracing started; ${sampler.defaultedBy} defaults apply: sampler ${sampler.name}, ratio ${sampler.ratio} (OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG override them)`,
  );

  return {
    enabled: true,
    forceFlush: async () => {
      await provider.forceFlush();
      await otlp?.forceFlush();
      await metered?.forceFlush();
    },
    shutdown: async (timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      otlp?.beginShutdown(deadline - 50);
      await withTimeout(provider.shutdown(), timeoutMs, () =>
        options.logger.warn(
          { component: 'otel', timeoutMs },
          'telemetry shutdown timed out; unexported spans are lost',
        ),
      );
      // after the spans: the last metric export carries the pipeline's final counts
      if (metered !== undefined) {
        await withTimeout(metered.shutdown(), Math.max(100, deadline - Date.now()), () =>
          options.logger.warn({ component: 'otel' }, 'metrics shutdown timed out; the last interval is lost'),
        );
      }
      return otlp?.summary;
    },
  };
}
