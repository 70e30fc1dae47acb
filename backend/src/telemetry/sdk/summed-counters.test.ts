import { ROOT_CONTEXT, SpanKind, TraceFlags, trace, type MeterProvider as ApiMeterProvider } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { AlwaysOffSampler, ParentBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { summingMeterProvider } from './summed-counters';

interface Point {
  name: string;
  type: DataPointType;
  monotonic: boolean | undefined;
  attributes: Record<string, unknown>;
  value: unknown;
}

function setup(temporality: AggregationTemporality, wrap: (provider: ApiMeterProvider) => ApiMeterProvider) {
  const exporter = new InMemoryMetricExporter(temporality);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const tracerProvider = new TracerProvider({
    meterProvider: wrap(meterProvider),
    sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }),
  });
  const points = async (): Promise<Point[]> => {
    await reader.forceFlush();
    const last = exporter.getMetrics().at(-1);
    exporter.reset();
    return (last?.scopeMetrics ?? [])
      .filter((scope) => scope.scope.name === '@opentelemetry/sdk-trace')
      .flatMap((scope) =>
        scope.metrics.flatMap((metric) =>
          metric.dataPoints.map((point) => ({
            name: metric.descriptor.name,
            type: metric.dataPointType,
            monotonic: 'isMonotonic' in metric ? metric.isMonotonic : undefined,
            attributes: point.attributes,
            value: point.value,
          })),
        ),
      )
      .sort((a, b) => JSON.stringify([a.name, a.attributes]).localeCompare(JSON.stringify([b.name, b.attributes])));
  };
  // with delta temporality an observable counter reports an idle series as 0 where the SDK's
  // counter leaves it out: the same sums
  const nonZero = async () =>
    (await points()).filter((point) => temporality === AggregationTemporality.CUMULATIVE || point.value !== 0);
  return {
    tracer: tracerProvider.getTracer('test'),
    // as each instrumentation has its own tracer, each with its own counters
    other: tracerProvider.getTracer('other'),
    points: nonZero,
    shutdown: () => meterProvider.shutdown(),
  };
}

/** Sampled and unsampled spans, local and remote parents, some left open. */
function workload(tracer: ReturnType<typeof setup>['tracer'], round: number) {
  const sampledRemote = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  });
  const open = [];
  for (let i = 0; i < 5 + round; i++) {
    const root = tracer.startSpan('unsampled root', { kind: SpanKind.SERVER });
    const child = tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, root));
    child.end();
    root.end();
    const server = tracer.startSpan('sampled server', { kind: SpanKind.SERVER }, sampledRemote);
    const query = tracer.startSpan('query', { kind: SpanKind.CLIENT }, trace.setSpan(ROOT_CONTEXT, server));
    query.end();
    if (i % 2 === 0) server.end();
    else open.push(server);
  }
  return open;
}

describe('summingMeterProvider: the SDK span counters, summed in place', () => {
  for (const temporality of [AggregationTemporality.CUMULATIVE, AggregationTemporality.DELTA]) {
    it(`when spans start and end, then the exported points equal the SDK's own counters (${AggregationTemporality[temporality]})`, async () => {
      const plain = setup(temporality, (provider) => provider);
      const summed = setup(temporality, summingMeterProvider);
      for (let round = 0; round < 3; round++) {
        const open = [...workload(plain.tracer, round), ...workload(summed.tracer, round)];
        const [expected, actual] = [await plain.points(), await summed.points()];
        expect(actual).toEqual(expected);
        expect(new Set(actual.map((point) => point.name))).toContain('otel.sdk.span.started');
        if (temporality === AggregationTemporality.CUMULATIVE)
          expect(new Set(actual.map((point) => point.name))).toContain('otel.sdk.span.live');
        // the live spans: what is still open now
        for (const span of open) span.end();
      }
      const [expected, actual] = [await plain.points(), await summed.points()];
      expect(actual).toEqual(expected);
      await plain.shutdown();
      await summed.shutdown();
    });
  }

  it('when spans start from several tracers (one per instrumentation), then their counts add up, as the SDK’s do', async () => {
    const plain = setup(AggregationTemporality.CUMULATIVE, (provider) => provider);
    const summed = setup(AggregationTemporality.CUMULATIVE, summingMeterProvider);
    for (const { tracer, other } of [plain, summed]) {
      for (let i = 0; i < 40; i++) tracer.startSpan('request').end();
      for (let i = 0; i < 2; i++) other.startSpan('job').end();
    }
    const [expected, actual] = [await plain.points(), await summed.points()];
    expect(actual).toEqual(expected);
    expect(actual.find((point) => point.name === 'otel.sdk.span.started')?.value).toBe(42);
    await plain.shutdown();
    await summed.shutdown();
  });

  it('when attribute sets come in different key orders, then they add up in one series; a negative counter increment is ignored', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    const meter = summingMeterProvider(provider).getMeter('test');
    const counter = meter.createCounter('test.count', { unit: '{thing}' });
    const histogram = meter.createHistogram('test.duration');
    counter.add(1, { a: 'x', b: 2 });
    counter.add(2, { b: 2, a: 'x' });
    counter.add(-5, { a: 'x', b: 2 });
    counter.add(1);
    histogram.record(3, { a: 'x' });
    await reader.forceFlush();
    const metrics = exporter.getMetrics().at(-1)!.scopeMetrics[0]!.metrics;
    const count = metrics.find((metric) => metric.descriptor.name === 'test.count')!;
    expect(count.descriptor.unit).toBe('{thing}');
    expect(count.dataPoints.map((point) => [point.attributes, point.value])).toEqual([
      [{ a: 'x', b: 2 }, 3],
      [{}, 1],
    ]);
    // anything but a counter goes to the real meter unchanged
    expect(metrics.find((metric) => metric.descriptor.name === 'test.duration')?.dataPointType).toBe(
      DataPointType.HISTOGRAM,
    );
    await provider.shutdown();
  });

  it('when more attribute sets come than the SDK would keep, then the rest add up in the overflow series', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    const counter = summingMeterProvider(provider).getMeter('test').createUpDownCounter('test.live');
    for (let i = 0; i < 20_000; i++) counter.add(1, { id: i % 2_500, kind: ['a', 'b'] });
    await reader.forceFlush();
    const points = exporter.getMetrics().at(-1)!.scopeMetrics[0]!.metrics[0]!.dataPoints;
    const overflow = points.find((point) => point.attributes['otel.metric.overflow'] === true);
    expect(points.reduce((sum, point) => sum + (point.value as number), 0)).toBe(20_000);
    expect(overflow?.value).toBe(501 * 8);
    expect(points.find((point) => point.attributes.id === 7)).toMatchObject({
      attributes: { kind: ['a', 'b'] },
      value: 8,
    });
    await provider.shutdown();
  });
});
