import { ROOT_CONTEXT, trace, ValueType, type Context } from '@opentelemetry/api';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { AggregationTemporality, MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { decodeMetricsJson, decodeMetricsProtobuf, type ReceivedMetricPoint } from '../../../testing/otlp-metrics';
import { ExemplarMeterProvider } from './exemplar-provider';
import { ExemplarStore, type ExemplarFilter, type ExemplarStoreOptions } from './exemplars';
import { withExemplars } from './otlp-exemplars';

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onShutdown() {}
  protected async onForceFlush() {}
  async metrics(): Promise<ResourceMetrics> {
    return (await this.collect()).resourceMetrics;
  }
}

const BOUNDS = [0.01, 0.1, 1];

function setUp(filter: Exclude<ExemplarFilter, 'always_off'> = 'trace_based', options: ExemplarStoreOptions = {}) {
  const reader = new TestReader();
  const store = new ExemplarStore(options);
  const provider = new ExemplarMeterProvider(new MeterProvider({ readers: [reader] }), store, filter);
  const histogram = provider
    .getMeter('test-scope', '1.0')
    .createHistogram('op.duration', { unit: 's', advice: { explicitBucketBoundaries: BOUNDS } });
  return { reader, store, provider, histogram };
}

let ids = 0;
function inSpan(sampled: boolean): { ctx: Context; traceId: string; spanId: string } {
  ids++;
  const traceId = ids.toString(16).padStart(32, '0');
  const spanId = ids.toString(16).padStart(16, 'f');
  const span = trace.wrapSpanContext({ traceId, spanId, traceFlags: sampled ? 1 : 0 });
  return { ctx: trace.setSpan(ROOT_CONTEXT, span), traceId, spanId };
}

const lookupOf = (store: ExemplarStore, fresh = true) => store.reader({ fresh });
const key = { scope: 'test-scope', scopeVersion: '1.0', name: 'op.duration' };

describe('exemplars: the aligned-histogram-bucket reservoir', () => {
  it('when several sampled measurements fall in one bucket, then the last one is its exemplar, one per bucket and attribute set', () => {
    const { store, histogram } = setUp();
    const collect = lookupOf(store);
    const first = inSpan(true);
    const last = inSpan(true);
    const slow = inSpan(true);
    const other = inSpan(true);
    histogram.record(0.002, { route: '/a' }, first.ctx);
    histogram.record(0.004, { route: '/a' }, last.ctx);
    histogram.record(0.5, { route: '/a' }, slow.ctx);
    histogram.record(0.003, { route: '/b' }, other.ctx);

    const lookup = collect();
    expect(lookup(key, { route: '/a' })).toEqual([
      { value: 0.004, timeMs: expect.any(Number), traceId: last.traceId, spanId: last.spanId, isInt: false },
      { value: 0.5, timeMs: expect.any(Number), traceId: slow.traceId, spanId: slow.spanId, isInt: false },
    ]);
    expect(lookup(key, { route: '/b' }).map((exemplar) => exemplar.traceId)).toEqual([other.traceId]);
    expect(lookup({ ...key, name: 'other' }, { route: '/a' })).toEqual([]);
  });

  it('when a measurement is outside any span or in an unsampled one, then trace_based keeps nothing and always_on keeps it without ids', () => {
    for (const filter of ['trace_based', 'always_on'] as const) {
      const { store, histogram } = setUp(filter);
      const collect = lookupOf(store);
      histogram.record(0.05, {}, inSpan(false).ctx);
      histogram.record(0.5, {}, ROOT_CONTEXT);
      const found = collect()(key, {});
      if (filter === 'trace_based') expect(found).toEqual([]);
      else
        expect(found.map(({ value, traceId }) => ({ value, traceId }))).toEqual([
          { value: 0.05, traceId: undefined },
          { value: 0.5, traceId: undefined },
        ]);
    }
  });

  it('when a reader collects twice, then a fresh reader gets only what came since, and a scrape reader the latest per bucket again', () => {
    const { store, histogram } = setUp();
    const fresh = lookupOf(store, true);
    const scrape = lookupOf(store, false);
    const span = inSpan(true);
    histogram.record(0.05, {}, span.ctx);
    expect(fresh()(key, {})).toHaveLength(1);
    expect(fresh()(key, {})).toEqual([]);
    expect(scrape()(key, {})).toHaveLength(1);
    expect(scrape()(key, {})).toHaveLength(1);
    histogram.record(5, {}, inSpan(true).ctx);
    expect(fresh()(key, {}).map((exemplar) => exemplar.value)).toEqual([5]);
  });

  it('when more measurements come than the pending buffer holds, or more attribute sets than the limit, then the newest measurements and the first sets are kept', () => {
    const { store, histogram } = setUp('trace_based', { pendingLimit: 2, seriesLimit: 2 });
    const collect = lookupOf(store);
    histogram.record(0.005, { n: 1 }, inSpan(true).ctx);
    histogram.record(0.05, { n: 1 }, inSpan(true).ctx);
    histogram.record(0.5, { n: 1 }, inSpan(true).ctx);
    let lookup = collect();
    expect(lookup(key, { n: 1 }).map((exemplar) => exemplar.value)).toEqual([0.05, 0.5]);
    for (const n of [2, 3, 4]) histogram.record(0.5, { n }, inSpan(true).ctx);
    lookup = collect();
    expect([2, 3, 4].map((n) => lookup(key, { n }).length)).toEqual([0, 1, 0]);
  });

  it('when an INT histogram records, then its exemplar is an integer', () => {
    const { store, provider } = setUp();
    const collect = lookupOf(store);
    const tokens = provider.getMeter('test-scope', '1.0').createHistogram('tokens', { valueType: ValueType.INT });
    tokens.record(300, {}, inSpan(true).ctx);
    expect(collect()({ ...key, name: 'tokens' }, {})).toMatchObject([{ value: 300, isInt: true }]);
  });

  it('when a measurement is negative, then the SDK drops it and so do the exemplars', () => {
    const { store, histogram } = setUp();
    const collect = lookupOf(store);
    histogram.record(-1, {}, inSpan(true).ctx);
    expect(collect()(key, {})).toEqual([]);
  });
});

describe('exemplars on OTLP: the upstream serializers plus exemplars', () => {
  /** Everything but the exemplars, to compare with the upstream encoding. */
  const withoutExemplars = (points: ReceivedMetricPoint[]) => points.map(({ exemplars: _, ...point }) => point);

  for (const encoding of ['protobuf', 'json'] as const) {
    it(`when a collection is serialized as ${encoding}, then each histogram point carries its exemplars and every other field is as otlp-transformer wrote it`, async () => {
      const { reader, store, provider, histogram } = setUp();
      const meter = provider.getMeter('test-scope', '1.0');
      meter.createCounter('requests').add(3, { route: '/a' });
      const tokens = meter.createHistogram('tokens', { valueType: ValueType.INT });
      const fast = inSpan(true);
      const slow = inSpan(true);
      const counted = inSpan(true);
      histogram.record(0.004, { route: '/a' }, fast.ctx);
      histogram.record(0.5, { route: '/a' }, slow.ctx);
      histogram.record(0.05, { route: '/b' }, inSpan(false).ctx);
      tokens.record(42, { type: 'input' }, counted.ctx);

      const base = encoding === 'json' ? JsonMetricsSerializer : ProtobufMetricsSerializer;
      const decode =
        encoding === 'json' ? (body: Uint8Array) => decodeMetricsJson(Buffer.from(body)) : decodeMetricsProtobuf;
      const serializer = withExemplars(base, encoding, store.reader({ fresh: true }));
      const collected = await reader.metrics();
      const points = decode(serializer.serializeRequest(collected)!);

      expect(withoutExemplars(points)).toEqual(withoutExemplars(decode(base.serializeRequest(collected)!)));
      const at = (name: string, route?: string) =>
        points.find((point) => point.name === name && (route === undefined || point.attributes.route === route))!;
      expect(at('op.duration', '/a').exemplars).toEqual([
        { traceId: fast.traceId, spanId: fast.spanId, value: 0.004, isInt: false, timeUnixNano: expect.any(BigInt) },
        { traceId: slow.traceId, spanId: slow.spanId, value: 0.5, isInt: false, timeUnixNano: expect.any(BigInt) },
      ]);
      const nanos = at('op.duration', '/a').exemplars[0]!.timeUnixNano!;
      expect(Number(nanos / 1_000_000n)).toBeGreaterThan(Date.now() - 60_000);
      expect(at('op.duration', '/b').exemplars).toEqual([]);
      expect(at('tokens').exemplars).toMatchObject([{ traceId: counted.traceId, value: 42, isInt: true }]);
      expect(at('requests')).toMatchObject({ kind: 'sum', value: 3, exemplars: [] });

      // the next export carries only what was recorded since
      expect(decode(serializer.serializeRequest(await reader.metrics())!).flatMap((point) => point.exemplars)).toEqual(
        [],
      );
    });
  }
});
