import { createRequire } from 'node:module';
import type { Attributes } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { cacheAttributeHashes, sdkMetricsUtils } from './attribute-hash';

// the build the app runs (CommonJS), whatever this test file is loaded as
const sdk = createRequire(createRequire(__filename).resolve('@opentelemetry/sdk-metrics'));
const { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } = sdk(
  './index.cjs',
) as typeof import('@opentelemetry/sdk-metrics');

function histogram() {
  const reader = new PeriodicExportingMetricReader({
    exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
    exportIntervalMillis: 60_000,
  });
  const provider = new MeterProvider({ readers: [reader] });
  const recorder = provider.getMeter('test').createHistogram('test.duration');
  const series = async () => {
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .flatMap((metric) => metric.dataPoints as Array<{ attributes: Attributes; value: { count: number } }>)
      .map((point) => ({ attributes: point.attributes, count: point.value.count }));
  };
  return { recorder, series, shutdown: () => provider.shutdown() };
}

/**
 * The cache rests on an internal of sdk-metrics (`utils.hashAttributes`, read by every
 * AttributeHashMap it constructs). These tests fail when an upgrade moves it, instead of
 * every metric record silently going back to sorting and encoding its attributes.
 */
describe('metric attribute hashes cached per frozen attributes object', () => {
  it('when installed, then sdk-metrics hashes through it, and a frozen set is hashed once', () => {
    const before = sdkMetricsUtils().hashAttributes as (attributes: Attributes) => string;
    expect(typeof before).toBe('function');
    expect(cacheAttributeHashes()).toBe(true);
    const hash = sdkMetricsUtils().hashAttributes as (attributes: Attributes) => string;
    expect(cacheAttributeHashes()).toBe(true);
    expect(sdkMetricsUtils().hashAttributes).toBe(hash);
    // the map every storage keys its series by reads it when constructed
    const { AttributeHashMap } = sdk('./state/HashMap.cjs') as { AttributeHashMap: new () => { _hash: unknown } };
    expect(new AttributeHashMap()._hash).toBe(hash);

    // a frozen set that counts how often its keys are listed: sorting them is the hash's work
    let listed = 0;
    const frozen = new Proxy(Object.freeze({ 'http.response.status_code': 200, 'http.request.method': 'GET' }), {
      ownKeys: (target) => {
        listed++;
        return Reflect.ownKeys(target);
      },
    });
    expect(hash(frozen)).toBe('[["http.request.method","GET"],["http.response.status_code",200]]');
    const afterFirst = listed;
    expect(afterFirst).toBeGreaterThan(0);
    expect(hash(frozen)).toBe('[["http.request.method","GET"],["http.response.status_code",200]]');
    expect(listed).toBe(afterFirst);
    // a set that can change is hashed every time
    const mutable = { 'http.request.method': 'GET' };
    expect(hash(mutable)).toBe(before(mutable));
  });

  it('when the same frozen set and an equal new object are recorded, then they are one series', async () => {
    cacheAttributeHashes();
    const { recorder, series, shutdown } = histogram();
    const frozen = Object.freeze({ 'db.system.name': 'postgresql', 'db.operation.name': 'SELECT' });
    for (let i = 0; i < 3; i++) recorder.record(0.001, frozen);
    recorder.record(0.001, { 'db.operation.name': 'SELECT', 'db.system.name': 'postgresql' });
    expect(await series()).toEqual([{ attributes: frozen, count: 4 }]);
    await shutdown();
  });

  it('when an object that can change is recorded, changed and recorded again, then each state is its own series', async () => {
    cacheAttributeHashes();
    const { recorder, series, shutdown } = histogram();
    const mutable: Attributes = { 'db.operation.name': 'SELECT' };
    recorder.record(0.001, mutable);
    mutable['db.operation.name'] = 'INSERT';
    recorder.record(0.001, mutable);
    // frozen, but holding an array that can still change
    const list = ['a'];
    const shallow = Object.freeze({ 'test.list': list });
    recorder.record(0.001, shallow);
    list.push('b');
    recorder.record(0.001, shallow);
    // four series of one record each (the SDK keeps the object it first saw, so their
    // attributes read as the object is now); cached, each pair would be one series of two
    expect((await series()).map((point) => point.count)).toEqual([1, 1, 1, 1]);
    await shutdown();
  });
});
