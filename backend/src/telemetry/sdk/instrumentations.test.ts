import { ROOT_CONTEXT, context, metrics, trace } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { createInstrumentations } from './instrumentations';

/**
 * The shortcut that lets a query under an unsampled trace skip the pg instrumentation rests
 * on a private hook of instrumentation-pg (`_getClientQueryPatch`). These tests fail when an
 * upgrade renames or changes it, instead of the shortcut silently turning off.
 */
describe('pg: queries under an unsampled trace skip the instrumentation', () => {
  const tracer = new TracerProvider().getTracer('test');

  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  afterAll(() => {
    context.disable();
  });

  function patchedQuery() {
    const pg = createInstrumentations({ untracedPaths: [], captureSqlParameters: false }).find(
      (instrumentation) => instrumentation.instrumentationName === '@opentelemetry/instrumentation-pg',
    ) as unknown as {
      _getClientQueryPatch?: () => (original: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown;
    };
    expect(typeof pg._getClientQueryPatch).toBe('function');
    const calls: Array<{ self: unknown; args: unknown[] }> = [];
    const original = function query(this: unknown, ...args: unknown[]) {
      calls.push({ self: this, args });
      return 'result';
    };
    return { query: pg._getClientQueryPatch!()(original), calls };
  }

  const client = {
    database: 'test',
    connectionParameters: { database: 'test', host: '127.0.0.1', port: 5432, user: 'postgres' },
  };
  const callback = () => undefined;

  it('when the active span is not sampled, then the driver is called without the instrumentation, and the query is still timed into the metric', async () => {
    const reader = new PeriodicExportingMetricReader({
      exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
      exportIntervalMillis: 60_000,
    });
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    const { query, calls } = patchedQuery();
    const unsampled = trace.wrapSpanContext({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 0 });
    let answered = false;
    const result = context.with(trace.setSpan(ROOT_CONTEXT, unsampled), () =>
      query.call(client, 'SELECT 1', [], () => {
        answered = true;
      }),
    );
    expect(result).toBe('result');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.self).toBe(client);
    expect(calls[0]!.args.slice(0, 2)).toEqual(['SELECT 1', []]);
    // our timing wrapper, not the instrumentation's span-ending callback
    const timed = calls[0]!.args.at(-1) as (error: unknown) => void;
    expect(timed.name).toBe('timed');
    timed(undefined);
    expect(answered).toBe(true);
    const { resourceMetrics } = await reader.collect();
    const duration = resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .find((metric) => metric.descriptor.name === 'db.client.operation.duration');
    expect(duration?.dataPoints[0]?.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'db.namespace': 'test',
      'db.operation.name': 'SELECT',
      'server.port': 5432,
    });
    metrics.disable();
  });

  it('when the active span is sampled, then the instrumentation runs (it wraps the callback to end its span)', () => {
    const { query, calls } = patchedQuery();
    const sampled = tracer.startSpan('request');
    context.with(trace.setSpan(ROOT_CONTEXT, sampled), () => query.call(client, 'SELECT 1', [], callback));
    sampled.end();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0]).toBe('SELECT 1');
    expect(calls[0]!.args.at(-1)).not.toBe(callback);
  });

  it('when the request’s span has already ended (its client went away), then its later queries are still traced', () => {
    const { query, calls } = patchedQuery();
    const ended = tracer.startSpan('request');
    ended.end();
    context.with(trace.setSpan(ROOT_CONTEXT, ended), () => query.call(client, 'SELECT 1', [], callback));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args.at(-1)).not.toBe(callback);
    expect((calls[0]!.args.at(-1) as { name: string }).name).not.toBe('timed');
  });
});

/**
 * A sampled query's duration goes through a cached frozen attribute set instead of the
 * instrumentation's fresh object, replacing its private `recordOperationDuration`. This fails
 * when an upgrade renames it, and when the series differ from what the instrumentation records.
 */
describe('pg: a sampled query’s duration metric, recorded as the instrumentation records it', () => {
  type Recorder = {
    recordOperationDuration(attributes: Record<string, unknown>, startTime: [number, number]): void;
    setMeterProvider(provider: MeterProvider): void;
  };

  async function seriesOf(pg: Recorder, queries: Array<Record<string, unknown>>) {
    const reader = new PeriodicExportingMetricReader({
      exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
      exportIntervalMillis: 60_000,
    });
    const provider = new MeterProvider({ readers: [reader] });
    pg.setMeterProvider(provider);
    const started: [number, number] = [Math.floor(Date.now() / 1000) - 1, 0];
    for (const attributes of queries) pg.recordOperationDuration({ ...attributes }, started);
    const { resourceMetrics } = await reader.collect();
    await provider.shutdown();
    const metric = resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .find((candidate) => candidate.descriptor.name === 'db.client.operation.duration');
    return (metric?.dataPoints ?? [])
      .map((point) => ({
        attributes: point.attributes,
        count: (point.value as { count: number }).count,
        overASecond: (point.value as { min?: number }).min! >= 1,
      }))
      .sort((a, b) => JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes)));
  }

  const query = {
    'db.system.name': 'postgresql',
    'db.namespace': 'test',
    'server.address': '127.0.0.1',
    'server.port': 5432,
    'db.operation.name': 'SELECT',
    'db.query.text': 'SELECT "id" FROM "sessions" WHERE "id" = $1',
  };
  const queries = [query, query, { ...query, 'db.operation.name': 'INSERT' }, { ...query, 'error.type': '23505' }];

  it('when sampled queries end, then their durations reach the series the instrumentation itself makes', async () => {
    const pg = createInstrumentations({ untracedPaths: [], captureSqlParameters: false }).find(
      (instrumentation) => instrumentation.instrumentationName === '@opentelemetry/instrumentation-pg',
    ) as unknown as Recorder;
    // the replacement sits on the instance, in front of the class's own method
    expect(Object.hasOwn(pg, 'recordOperationDuration')).toBe(true);
    const ours = await seriesOf(pg, queries);
    const upstream = await seriesOf(new PgInstrumentation() as unknown as Recorder, queries);
    expect(ours).toEqual(upstream);
    expect(ours.map((point) => point.count).sort()).toEqual([1, 1, 2]);
    expect(ours.every((point) => point.overASecond)).toBe(true);
    expect(ours.find((point) => point.attributes['db.operation.name'] === 'INSERT')?.attributes).toEqual({
      'db.namespace': 'test',
      'server.port': 5432,
      'server.address': '127.0.0.1',
      'db.operation.name': 'INSERT',
      'db.system.name': 'postgresql',
    });
  });
});

/** The same for Redis, on instrumentation-ioredis's private `_traceSendCommand`. */
describe('ioredis: commands under an unsampled trace skip the instrumentation', () => {
  const tracer = new TracerProvider().getTracer('test');

  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  afterAll(() => {
    context.disable();
  });

  function patchedSendCommand() {
    const redis = createInstrumentations({ untracedPaths: [], captureSqlParameters: false }).find(
      (instrumentation) => instrumentation.instrumentationName === '@opentelemetry/instrumentation-ioredis',
    ) as unknown as {
      _traceSendCommand?: (
        original: (...args: unknown[]) => unknown,
        version: string,
      ) => (...args: unknown[]) => unknown;
    };
    expect(typeof redis._traceSendCommand).toBe('function');
    const seen: Array<{ resolve: unknown }> = [];
    const original = function sendCommand(this: unknown, cmd: { resolve: unknown }) {
      seen.push({ resolve: cmd.resolve });
      return 'sent';
    };
    return { sendCommand: redis._traceSendCommand!(original as (...args: unknown[]) => unknown, '5.9.0'), seen };
  }
  const connection = { options: { host: '127.0.0.1', port: 6379 } };
  const resolve = () => undefined;

  it('when the active span is not sampled, then the command reaches the driver untouched', () => {
    const { sendCommand, seen } = patchedSendCommand();
    const unsampled = trace.wrapSpanContext({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 0 });
    const cmd = { name: 'get', args: ['k'], resolve, reject: resolve };
    const result = context.with(trace.setSpan(ROOT_CONTEXT, unsampled), () => sendCommand.call(connection, cmd));
    expect(result).toBe('sent');
    expect(seen).toHaveLength(1);
    expect(cmd.resolve).toBe(resolve);
  });

  it('when the active span is sampled, then the instrumentation runs (it wraps resolve to end its span)', () => {
    const { sendCommand, seen } = patchedSendCommand();
    const sampled = tracer.startSpan('job');
    const cmd = { name: 'get', args: ['k'], resolve, reject: resolve };
    context.with(trace.setSpan(ROOT_CONTEXT, sampled), () => sendCommand.call(connection, cmd));
    sampled.end();
    expect(seen).toHaveLength(1);
    expect(cmd.resolve).not.toBe(resolve);
  });
});

describe('which instrumentation traces incoming HTTP', () => {
  const names = (instrumentations?: Parameters<typeof createInstrumentations>[0]['instrumentations']) => {
    const created = createInstrumentations({ untracedPaths: [], captureSqlParameters: false, instrumentations });
    for (const instrumentation of created) instrumentation.disable();
    return created.map((instrumentation) => instrumentation.instrumentationName);
  };

  it('when nothing is chosen, then incoming HTTP is ours (http-server/), and upstream’s instrumentation-http is not loaded', () => {
    const all = names();
    expect(all).toContain('renovation-agent-backend/http-server');
    expect(all).not.toContain('@opentelemetry/instrumentation-http');
  });

  it('when `http` is left out (OTEL_NODE_DISABLED_INSTRUMENTATIONS=http), then no incoming-HTTP instrumentation is created', () => {
    expect(names(['pg', 'ioredis', 'undici', 'runtime-node'])).not.toContain('renovation-agent-backend/http-server');
    expect(names(['http'])).toEqual(['renovation-agent-backend/http-server']);
  });
});
