import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { cheapPoolCounters } from './pg-pool-metrics';

// the builds the app runs (CommonJS), whatever this test file is loaded as
const load = createRequire(__filename);
const { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } = load(
  '@opentelemetry/sdk-metrics',
) as typeof import('@opentelemetry/sdk-metrics');
const { PgInstrumentation } = load(
  '@opentelemetry/instrumentation-pg',
) as typeof import('@opentelemetry/instrumentation-pg');

/** A pg-pool as instrumentation-pg sees it: options, counts, events. */
class FakePool extends EventEmitter {
  options = { host: '127.0.0.1', port: 5432, database: 'test', max: 10 };
  totalCount = 0;
  idleCount = 0;
  waitingCount = 0;
}

/**
 * The cheaper pool counters replace an internal of instrumentation-pg (`utils.updateCounter`,
 * called by the pool listeners it adds). These tests drive those listeners as pg-pool would
 * and read what reaches the metric: they fail when an upgrade moves the internal, and when
 * the counts differ from what the instrumentation reports.
 */
describe('pg pool counters: the same series for less work', () => {
  function instrumentedPool() {
    expect(cheapPoolCounters()).toBe(true);
    const reader = new PeriodicExportingMetricReader({
      exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
      exportIntervalMillis: 60_000,
    });
    const provider = new MeterProvider({ readers: [reader] });
    const instrumentation = new PgInstrumentation({ enabled: false });
    instrumentation.setMeterProvider(provider);
    const pool = new FakePool();
    // what the instrumentation's pool.connect patch does on each connect
    const internals = instrumentation as unknown as { _setPoolConnectEventListeners?: (pool: FakePool) => void };
    expect(typeof internals._setPoolConnectEventListeners).toBe('function');
    internals._setPoolConnectEventListeners!(pool);
    const counts = async () => {
      const { resourceMetrics } = await reader.collect();
      const series = new Map<string, number>();
      for (const metric of resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics))
        for (const point of metric.dataPoints)
          series.set(`${metric.descriptor.name} ${JSON.stringify(point.attributes)}`, point.value as number);
      return series;
    };
    return { pool, counts, shutdown: () => provider.shutdown() };
  }

  const pool = '{"db.client.connection.pool.name":"127.0.0.1:5432/test"}';
  const used = '{"db.client.connection.state":"used","db.client.connection.pool.name":"127.0.0.1:5432/test"}';
  const idle = '{"db.client.connection.state":"idle","db.client.connection.pool.name":"127.0.0.1:5432/test"}';

  it('when connections are made, acquired, released and one waits, then count and pending requests follow the pool', async () => {
    const { pool: fake, counts, shutdown } = instrumentedPool();
    fake.totalCount = 1;
    fake.emit('connect');
    fake.emit('acquire');
    // the first event already shows every series, at zero where nothing happened yet
    expect(await counts()).toEqual(
      new Map([
        [`db.client.connection.max ${pool}`, 10],
        [`db.client.connection.count ${used}`, 1],
        [`db.client.connection.count ${idle}`, 0],
        [`db.client.connection.pending_requests ${pool}`, 0],
      ]),
    );
    fake.totalCount = 2;
    fake.waitingCount = 1;
    fake.emit('connect');
    fake.waitingCount = 0;
    fake.emit('acquire');
    fake.idleCount = 2;
    fake.emit('release');
    fake.emit('release');
    const after = await counts();
    expect(after.get(`db.client.connection.count ${used}`)).toBe(0);
    expect(after.get(`db.client.connection.count ${idle}`)).toBe(2);
    expect(after.get(`db.client.connection.pending_requests ${pool}`)).toBe(0);
    await shutdown();
  });

  it('when installed, then the pool listeners look it up on every event (so the cheaper one is what runs)', async () => {
    const { pool: fake, shutdown } = instrumentedPool();
    const utils = load(createRequire(load.resolve('@opentelemetry/instrumentation-pg')).resolve('./utils.cjs')) as {
      updateCounter: (...args: unknown[]) => unknown;
    };
    const installed = utils.updateCounter;
    const calls: unknown[][] = [];
    utils.updateCounter = (...args: unknown[]) => {
      calls.push(args);
      return installed(...args);
    };
    try {
      fake.emit('acquire');
      expect(calls).toHaveLength(1);
      expect(calls[0]![0]).toBe('127.0.0.1:5432/test');
    } finally {
      utils.updateCounter = installed;
      await shutdown();
    }
  });

  it('when an event changes one count, then one add is made, with the frozen set the pool’s first event built', () => {
    expect(cheapPoolCounters()).toBe(true);
    const utils = load(createRequire(load.resolve('@opentelemetry/instrumentation-pg')).resolve('./utils.cjs')) as {
      updateCounter: (...args: unknown[]) => { used: number; idle: number; pending: number };
    };
    const adds: Array<[number, object]> = [];
    const counter = { add: (value: number, attributes: object) => adds.push([value, attributes]) };
    const pending = { add: (value: number, attributes: object) => adds.push([value, attributes]) };
    const fake = { totalCount: 1, idleCount: 0, waitingCount: 0 };
    let latest = utils.updateCounter('p', fake, counter, pending, { used: 0, idle: 0, pending: 0 });
    expect(adds.map(([value]) => value)).toEqual([1, 0, 0]);
    expect(adds.every(([, attributes]) => Object.isFrozen(attributes))).toBe(true);
    const usedSet = adds[0]![1];
    adds.length = 0;
    fake.idleCount = 1;
    latest = utils.updateCounter('p', fake, counter, pending, latest);
    expect(adds).toEqual([
      [-1, usedSet],
      [1, { 'db.client.connection.state': 'idle', 'db.client.connection.pool.name': 'p' }],
    ]);
    expect(adds[0]![1]).toBe(usedSet);
    expect(latest).toEqual({ used: 0, idle: 1, pending: 0 });
  });
});
