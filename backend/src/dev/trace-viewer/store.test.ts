import { describe, expect, it } from 'vitest';
import type { ReceivedSpan } from '../otlp/decode';
import { createTraceStore, traceIdIn } from './store';

const T1 = '0af7651916cd43dd8448eb211c80319c';
const T2 = '4bf92f3577b34da6a3ce929d0e0e4736';

let nextSpan = 1;
function span(traceId: string, fields: Partial<ReceivedSpan> & { service?: string } = {}): ReceivedSpan {
  const { service = 'api', ...rest } = fields;
  return {
    traceId,
    spanId: (nextSpan++).toString(16).padStart(16, '0'),
    name: 'work',
    kind: 'INTERNAL',
    startTimeUnixNano: 1_000_000_000n,
    endTimeUnixNano: 2_000_000_000n,
    attributes: {},
    events: [],
    links: [],
    status: { code: 'UNSET' },
    resource: { 'service.name': service },
    scope: { name: 'test' },
    ...rest,
  };
}

const traceId = (n: number) => n.toString(16).padStart(32, '0');

describe('trace store', () => {
  it('when more traces arrive than the bound, then the least recently updated ones are evicted', () => {
    const store = createTraceStore({ maxTraces: 3, maxSpansPerTrace: 100 });
    for (const n of [1, 2, 3]) store.add([span(traceId(n))]);
    store.add([span(traceId(1))]); // trace 1 gets a late span: now the newest
    store.add([span(traceId(4))]);

    expect(store.get(traceId(2))).toBeUndefined();
    expect(store.get(traceId(1))?.spans).toHaveLength(2);
    expect(store.stats()).toEqual({ traces: 3, spans: 4, maxTraces: 3, evictedTraces: 1, droppedSpans: 0 });
  });

  it('when a span arrives twice or a trace outgrows its bound, then it is kept once and the excess is counted', () => {
    const store = createTraceStore({ maxTraces: 10, maxSpansPerTrace: 2 });
    const first = span(T1);
    store.add([first, first, span(T1), span(T1)]);
    expect(store.get(T1)?.summary).toMatchObject({ spanCount: 2, droppedSpans: 1 });
    expect(store.stats()).toMatchObject({ spans: 2, droppedSpans: 1 });
  });

  it('when a trace holds an agent run, then its tokens and cost count each model call once, whichever cost name it carries', () => {
    const store = createTraceStore({ maxTraces: 10, maxSpansPerTrace: 100 });
    const root = span(T1, { name: 'socket.io chat:user_message', kind: 'CONSUMER' });
    const run = span(T1, {
      parentSpanId: root.spanId,
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.usage.input_tokens': 250,
        'gen_ai.usage.output_tokens': 55,
        'gen_ai.usage.cost': 0.5,
      },
    });
    const usage = (input: number, output: number, cost: Record<string, number>) => ({
      'gen_ai.operation.name': 'chat',
      'gen_ai.usage.input_tokens': input,
      'gen_ai.usage.output_tokens': output,
      'gen_ai.usage.cost.currency': 'USD',
      ...cost,
    });
    const calls = [
      span(T1, { parentSpanId: run.spanId, attributes: usage(100, 15, { 'gen_ai.usage.cost.amount': 0.25 }) }),
      span(T1, { parentSpanId: run.spanId, attributes: usage(150, 40, { 'gen_ai.usage.cost': 0.125 }) }),
    ];
    store.add([run, ...calls, root]);

    expect(store.get(T1)?.summary).toMatchObject({
      rootName: 'socket.io chat:user_message',
      ai: { spans: 3, inputTokens: 250, outputTokens: 55, cost: 0.375, currency: 'USD' },
    });
  });

  it('when a trace arrives child first, then the list shows the child as root until the root arrives', () => {
    const store = createTraceStore({ maxTraces: 10, maxSpansPerTrace: 100 });
    const root = span(T2, {
      name: 'GET /api/sessions/:sessionId',
      kind: 'SERVER',
      startTimeUnixNano: 500_000_000n,
      attributes: { 'http.route': '/api/sessions/:sessionId' },
    });
    store.add([span(T2, { name: 'SELECT renovation_sessions', parentSpanId: root.spanId })]);
    expect(store.list().traces[0]?.rootName).toBe('SELECT renovation_sessions');
    store.add([root]);
    expect(store.list().traces[0]).toMatchObject({
      rootName: 'GET /api/sessions/:sessionId',
      operation: 'GET /api/sessions/:sessionId',
      durationMs: 1500,
    });
  });

  it('when the list is filtered or searched, then only matching traces come back, newest first', () => {
    const store = createTraceStore({ maxTraces: 10, maxSpansPerTrace: 100 });
    store.add([span(T1, { name: 'POST /api/sessions', service: 'api', startTimeUnixNano: 1n, endTimeUnixNano: 2n })]);
    store.add([
      span(T2, {
        name: 'plan process',
        service: 'worker',
        status: { code: 'ERROR', message: 'boom' },
        startTimeUnixNano: 5n,
        endTimeUnixNano: 6n,
      }),
    ]);
    const ids = (query: Parameters<typeof store.list>[0]) => store.list(query).traces.map((trace) => trace.traceId);

    expect(ids({})).toEqual([T2, T1]);
    expect(ids({ service: 'worker' })).toEqual([T2]);
    expect(ids({ error: true })).toEqual([T2]);
    expect(ids({ operation: 'POST /api/sessions' })).toEqual([T1]);
    expect(ids({ search: T1.toUpperCase() })).toEqual([T1]);
    expect(ids({ search: `00-${T2}-00f067aa0ba902b7-01` })).toEqual([T2]);
    expect(ids({ search: 'plan' })).toEqual([T2]);
    expect(ids({ search: T1.slice(0, 8) })).toEqual([T1]);
    expect(store.list().services).toEqual(['api', 'worker']);
    expect(traceIdIn(' not an id ')).toBeUndefined();
  });

  it('when saved and restored into a new store, then the traces and their summaries are the same', () => {
    const store = createTraceStore({ maxTraces: 10, maxSpansPerTrace: 100 });
    store.add([span(T1, { attributes: { big: 2n ** 60n, bytes: new Uint8Array([1, 2]) } }), span(T2)]);
    const copy = createTraceStore({ maxTraces: 1, maxSpansPerTrace: 100 });
    copy.restore(JSON.parse(JSON.stringify(store.save())));

    expect(copy.get(T1)).toBeUndefined();
    expect(copy.get(T2)).toEqual(store.get(T2));
    expect(store.get(T1)?.spans[0]?.attributes).toEqual({ big: '1152921504606846976', bytes: 'AQI=' });
  });
});
