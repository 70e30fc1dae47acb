import { createRequire } from 'node:module';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { cheapSpanCounters, sdkTraceMetricsClass } from './tracer-metrics';

// the builds the app runs (CommonJS), whatever this test file is loaded as
const load = createRequire(__filename);
const { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } = load(
  '@opentelemetry/sdk-metrics',
) as typeof import('@opentelemetry/sdk-metrics');
const { AlwaysOffSampler, AlwaysOnSampler, TracerProvider } = load(
  '@opentelemetry/sdk-trace',
) as typeof import('@opentelemetry/sdk-trace');

/**
 * The cheaper span counters replace an internal of sdk-trace (`TracerMetrics.prototype.startSpan`).
 * These tests fail when an upgrade moves it, and when what reaches `otel.sdk.span.started`
 * and `otel.sdk.span.live` differs from what the SDK reports.
 */
describe('SDK span counters: the same series for less work', () => {
  async function countsOf(
    sampled: boolean,
    act: (tracer: ReturnType<InstanceType<typeof TracerProvider>['getTracer']>) => void,
  ) {
    const reader = new PeriodicExportingMetricReader({
      exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
      exportIntervalMillis: 60_000,
    });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const provider = new TracerProvider({
      meterProvider,
      sampler: sampled ? new AlwaysOnSampler() : new AlwaysOffSampler(),
    });
    act(provider.getTracer('test'));
    const { resourceMetrics } = await reader.collect();
    const series = new Map<string, number>();
    for (const metric of resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics))
      for (const point of metric.dataPoints)
        series.set(`${metric.descriptor.name} ${JSON.stringify(point.attributes)}`, point.value as number);
    await provider.shutdown();
    await meterProvider.shutdown();
    return series;
  }

  it('when installed, then the SDK counts through it', () => {
    expect(typeof sdkTraceMetricsClass()?.prototype.startSpan).toBe('function');
    expect(cheapSpanCounters()).toBe(true);
    const installed = sdkTraceMetricsClass()?.prototype.startSpan;
    expect(cheapSpanCounters()).toBe(true);
    expect(sdkTraceMetricsClass()?.prototype.startSpan).toBe(installed);
  });

  it('when spans are dropped, under no parent and under a remote one, then each is counted by origin and decision', async () => {
    cheapSpanCounters();
    const remote = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: 'a'.repeat(32),
      spanId: 'b'.repeat(16),
      traceFlags: 0,
      isRemote: true,
    });
    const counts = await countsOf(false, (tracer) => {
      tracer.startSpan('one').end();
      tracer.startSpan('two').end();
      tracer.startSpan('three', {}, remote).end();
    });
    expect(counts).toEqual(
      new Map([
        ['otel.sdk.span.started {"otel.span.parent.origin":"none","otel.span.sampling_result":"DROP"}', 2],
        ['otel.sdk.span.started {"otel.span.parent.origin":"remote","otel.span.sampling_result":"DROP"}', 1],
      ]),
    );
  });

  it('when sampled spans start and one ends, then started counts both and live the one still open', async () => {
    cheapSpanCounters();
    const counts = await countsOf(true, (tracer) => {
      const parent = tracer.startSpan('parent');
      tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, parent)).end();
    });
    expect(counts).toEqual(
      new Map([
        ['otel.sdk.span.started {"otel.span.parent.origin":"none","otel.span.sampling_result":"RECORD_AND_SAMPLE"}', 1],
        [
          'otel.sdk.span.started {"otel.span.parent.origin":"local","otel.span.sampling_result":"RECORD_AND_SAMPLE"}',
          1,
        ],
        ['otel.sdk.span.live {"otel.span.sampling_result":"RECORD_AND_SAMPLE"}', 1],
      ]),
    );
  });
});
