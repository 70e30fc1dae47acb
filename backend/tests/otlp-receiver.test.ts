import {
  context,
  createTraceState,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type HrTime,
  type SpanContext,
} from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPHttpJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ancestorsOf,
  childrenOf,
  findRoot,
  formatTree,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../testing/otlp-receiver';

type ExporterConfig = NonNullable<ConstructorParameters<typeof OTLPProtoTraceExporter>[0]>;
// The option is typed as the CompressionAlgorithm enum, which the exporter packages do not re-export.
const GZIP = 'gzip' as NonNullable<ExporterConfig['compression']>;

const SERVICE_NAME = 'otlp-receiver-test';
const SCOPE_NAME = 'otlp-receiver-test-scope';
const SCOPE_VERSION = '1.2.3';
const LINKED: SpanContext = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: TraceFlags.SAMPLED,
};

function nanos([seconds, nanoseconds]: HrTime): bigint {
  return BigInt(seconds) * 1_000_000_000n + BigInt(nanoseconds);
}

function createProvider(exporter: SpanExporter) {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': SERVICE_NAME, 'deployment.environment.name': 'test' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter }), new SimpleSpanProcessor({ exporter: memory })],
  });
  return { provider, memory, tracer: provider.getTracer(SCOPE_NAME, SCOPE_VERSION) };
}

/** Emits a SERVER parent and a CLIENT child carrying every attribute type, an event, a link and an ERROR status. */
async function exportParentAndChild(exporter: SpanExporter) {
  const { provider, memory, tracer } = createProvider(exporter);
  const parent = tracer.startSpan('parent-op', { kind: SpanKind.SERVER });
  parent.setAttribute('http.route', '/plans/:id');
  const child = tracer.startSpan(
    'child-op',
    { kind: SpanKind.CLIENT, links: [{ context: LINKED, attributes: { 'link.reason': 'retry' } }] },
    trace.setSpan(context.active(), parent),
  );
  child.setAttributes({
    'attr.string': 'hello',
    'attr.empty': '',
    'attr.int': 42,
    'attr.negative': -7,
    'attr.zero': 0,
    'attr.double': 3.25,
    'attr.bool': true,
    'attr.false': false,
    'attr.strings': ['a', 'b'],
    'attr.ints': [1, 2, 3],
    'attr.big': 2 ** 60,
    'attr.map': { nested: 'x', n: 1 },
    'attr.bytes': new Uint8Array([1, 2, 255]),
    'attr.null': null,
  });
  child.addEvent('cache.miss', { 'cache.key': 'user:1', 'cache.attempt': 2 });
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  child.end();
  parent.end();
  await provider.forceFlush();
  const finished = memory.getFinishedSpans();
  await provider.shutdown();

  const byName = (name: string): ReadableSpan => {
    const span = finished.find((s) => s.name === name);
    if (span === undefined) throw new Error(`SDK did not finish ${name}`);
    return span;
  };
  return { parent: byName('parent-op'), child: byName('child-op') };
}

function expectedSpans(parent: ReadableSpan, child: ReadableSpan): ReceivedSpan[] {
  const resource = { ...parent.resource.attributes };
  const scope = { name: SCOPE_NAME, version: SCOPE_VERSION };
  const [event] = child.events;
  if (event === undefined) throw new Error('SDK dropped the event');
  const expectedChild: ReceivedSpan = {
    traceId: child.spanContext().traceId,
    spanId: child.spanContext().spanId,
    parentSpanId: parent.spanContext().spanId,
    name: 'child-op',
    kind: 'CLIENT',
    startTimeUnixNano: nanos(child.startTime),
    endTimeUnixNano: nanos(child.endTime),
    attributes: {
      'attr.string': 'hello',
      'attr.empty': '',
      'attr.int': 42,
      'attr.negative': -7,
      'attr.zero': 0,
      'attr.double': 3.25,
      'attr.bool': true,
      'attr.false': false,
      'attr.strings': ['a', 'b'],
      'attr.ints': [1, 2, 3],
      'attr.big': 2n ** 60n,
      'attr.map': { nested: 'x', n: 1 },
      'attr.bytes': new Uint8Array([1, 2, 255]),
      'attr.null': null,
    },
    events: [
      {
        name: 'cache.miss',
        timeUnixNano: nanos(event.time),
        attributes: { 'cache.key': 'user:1', 'cache.attempt': 2 },
      },
    ],
    links: [{ traceId: LINKED.traceId, spanId: LINKED.spanId, attributes: { 'link.reason': 'retry' } }],
    status: { code: 'ERROR', message: 'boom' },
    resource,
    scope,
  };
  const expectedParent: ReceivedSpan = {
    traceId: parent.spanContext().traceId,
    spanId: parent.spanContext().spanId,
    name: 'parent-op',
    kind: 'SERVER',
    startTimeUnixNano: nanos(parent.startTime),
    endTimeUnixNano: nanos(parent.endTime),
    attributes: { 'http.route': '/plans/:id' },
    events: [],
    links: [],
    status: { code: 'UNSET' },
    resource,
    scope,
  };
  // Sorted by name: SimpleSpanProcessor exports each span in its own request, and (with
  // compression, which is asynchronous) the two requests may arrive in either order.
  return [expectedChild, expectedParent];
}

async function postTraces(receiver: OtlpReceiver, body: string | Uint8Array, headers: Record<string, string>) {
  const response = await fetch(receiver.tracesUrl, { method: 'POST', body, headers });
  return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
}

describe('otlp-receiver', () => {
  let receiver: OtlpReceiver;

  beforeEach(async () => {
    receiver = await startOtlpReceiver();
  });

  afterEach(async () => {
    await receiver.close();
  });

  const exporters = [
    {
      name: 'protobuf',
      contentType: 'application/x-protobuf',
      encoding: undefined,
      create: (url: string) => new OTLPProtoTraceExporter({ url }),
    },
    {
      name: 'gzipped protobuf',
      contentType: 'application/x-protobuf',
      encoding: 'gzip',
      create: (url: string) => new OTLPProtoTraceExporter({ url, compression: GZIP }),
    },
    {
      name: 'JSON',
      contentType: 'application/json',
      encoding: undefined,
      create: (url: string) => new OTLPHttpJsonTraceExporter({ url }),
    },
    {
      name: 'gzipped JSON',
      contentType: 'application/json',
      encoding: 'gzip',
      create: (url: string) => new OTLPHttpJsonTraceExporter({ url, compression: GZIP }),
    },
  ];

  it.each(exporters)(
    'when the real $name exporter sends a parent and child span, then every field is decoded exactly',
    async ({ contentType, encoding, create }) => {
      const { parent, child } = await exportParentAndChild(create(receiver.tracesUrl));

      const received = await receiver.waitForSpans((all) => all.length === 2, { timeoutMs: 5000 });
      const spans = [...received].sort((a, b) => a.name.localeCompare(b.name));
      expect(spans).toStrictEqual(expectedSpans(parent, child));
      const [receivedChild] = spans;
      expect(receivedChild?.resource['service.name']).toBe(SERVICE_NAME);
      expect(receivedChild?.resource['deployment.environment.name']).toBe('test');
      expect(receiver.trace(parent.spanContext().traceId)).toHaveLength(2);

      const requests = receiver.requests();
      expect(requests).toHaveLength(2);
      for (const request of requests) {
        expect(request).toMatchObject({ method: 'POST', path: '/v1/traces', contentType, status: 200, spanCount: 1 });
        expect(request.encoding).toBe(encoding);
        expect(request.bytes).toBeGreaterThan(0);
        expect(request.headers['user-agent']).toContain('OTel-OTLP-Exporter-JavaScript');
      }
    },
  );

  it('when spans form a tree, then the tree helpers navigate and print it', async () => {
    const { provider, tracer } = createProvider(new OTLPProtoTraceExporter({ url: receiver.tracesUrl }));
    const remoteParent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState: createTraceState('vendor=abc'),
    });
    const server = tracer.startSpan('GET /plans', { kind: SpanKind.SERVER }, remoteParent);
    const handler = tracer.startSpan('handler', {}, trace.setSpan(remoteParent, server));
    const query = tracer.startSpan('SELECT plans', { kind: SpanKind.CLIENT }, trace.setSpan(remoteParent, handler));
    const render = tracer.startSpan('render', {}, trace.setSpan(remoteParent, server));
    query.setStatus({ code: SpanStatusCode.ERROR, message: 'timeout' });
    for (const span of [query, handler, render, server]) span.end();
    await provider.forceFlush();
    await provider.shutdown();

    const spans = await receiver.waitForSpans((all) => all.length === 4);
    const byName = (name: string): ReceivedSpan => {
      const span = spans.find((s) => s.name === name);
      if (span === undefined) throw new Error(`missing ${name}`);
      return span;
    };
    expect(byName('GET /plans')).toMatchObject({ parentSpanId: '00f067aa0ba902b7', traceState: 'vendor=abc' });
    expect(findRoot(spans)).toBe(byName('GET /plans'));
    expect(childrenOf(spans, byName('GET /plans')).map((s) => s.name)).toEqual(['handler', 'render']);
    expect(ancestorsOf(spans, byName('SELECT plans')).map((s) => s.name)).toEqual(['handler', 'GET /plans']);
    expect(ancestorsOf(spans, byName('GET /plans'))).toEqual([]);
    expect(formatTree(spans)).toBe(
      [
        'trace 4bf92f3577b34da6a3ce929d0e0e4736',
        '  GET /plans [SERVER]',
        '    handler [INTERNAL]',
        '      SELECT plans [CLIENT] ERROR: timeout',
        '    render [INTERNAL]',
      ].join('\n'),
    );
    expect(formatTree([])).toBe('(no spans)');
  });

  it("when the mode is 'unavailable', then exports get 503, the request is recorded and no span is stored", async () => {
    await receiver.setMode('unavailable');
    // A short timeout stops the exporter from retrying the 503 for its default 10 s.
    const { provider, tracer } = createProvider(
      new OTLPProtoTraceExporter({ url: receiver.tracesUrl, timeoutMillis: 300 }),
    );
    tracer.startSpan('rejected').end();
    await expect(provider.forceFlush()).rejects.toThrow();

    expect(receiver.spans()).toEqual([]);
    expect(receiver.requests()).toMatchObject([{ status: 503, spanCount: 1, contentType: 'application/x-protobuf' }]);

    await receiver.setMode('ok');
    tracer.startSpan('accepted').end();
    await provider.forceFlush();
    await provider.shutdown();
    expect(receiver.spans().map((s) => s.name)).toEqual(['accepted']);
    expect(receiver.requests().map((r) => r.status)).toEqual([503, 200]);
  });

  it("when the mode is 'refuse', then connections are refused until the mode is 'ok' again on the same port", async () => {
    const { provider, tracer } = createProvider(
      new OTLPProtoTraceExporter({ url: receiver.tracesUrl, timeoutMillis: 300 }),
    );
    // The first export leaves a keep-alive connection in the exporter's agent.
    tracer.startSpan('before').end();
    await provider.forceFlush();

    await receiver.setMode('refuse');
    await expect(fetch(receiver.tracesUrl, { method: 'POST' })).rejects.toMatchObject({
      cause: { code: 'ECONNREFUSED' },
    });
    tracer.startSpan('while refused').end();
    await expect(provider.forceFlush()).rejects.toThrow();

    await receiver.setMode('ok');
    expect(await postTraces(receiver, '{}', { 'content-type': 'application/json' })).toEqual({
      status: 200,
      contentType: 'application/json',
      text: '{}',
    });
    tracer.startSpan('after').end();
    await provider.forceFlush();
    await provider.shutdown();
    expect(receiver.spans().map((s) => s.name)).toEqual(['before', 'after']);
  });

  it('when the mode is a custom status, then that status and body are answered and no span is stored', async () => {
    await receiver.setMode({ status: 418, body: 'teapot' });
    const response = await postTraces(receiver, '{"resourceSpans":[]}', { 'content-type': 'application/json' });
    expect(response).toMatchObject({ status: 418, text: 'teapot' });
    expect(receiver.requests()).toMatchObject([{ status: 418, spanCount: 0 }]);
  });

  it('when a protobuf request is accepted, then the response is an empty protobuf body', async () => {
    const response = await postTraces(receiver, new Uint8Array(), { 'content-type': 'application/x-protobuf' });
    expect(response).toEqual({ status: 200, contentType: 'application/x-protobuf', text: '' });
  });

  it('when bodies are malformed, then they are answered 400 and recorded', async () => {
    const json = { 'content-type': 'application/json' };
    const protobuf = { 'content-type': 'application/x-protobuf' };
    expect((await postTraces(receiver, '{not json', json)).status).toBe(400);
    expect((await postTraces(receiver, '{"resourceSpans":{}}', json)).status).toBe(400);
    expect((await postTraces(receiver, new Uint8Array([0x0a, 0xff]), protobuf)).status).toBe(400);
    expect((await postTraces(receiver, '{}', { ...json, 'content-encoding': 'gzip' })).status).toBe(400);
    expect((await postTraces(receiver, gzipSync('{}'), { ...json, 'content-encoding': 'gzip' })).status).toBe(200);

    expect(receiver.requests().map((r) => r.status)).toEqual([400, 400, 400, 400, 200]);
    expect(receiver.requests()[0]?.error).toMatch(/invalid JSON/);
    expect(receiver.spans()).toEqual([]);
  });

  it('when another path is requested, then it is answered 404', async () => {
    const response = await fetch(`${receiver.url}/v1/unknown`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
    expect(receiver.requests()).toMatchObject([{ path: '/v1/unknown', status: 404 }]);
  });

  it('when metrics arrive as OTLP/JSON, then their points are decoded apart from the traces', async () => {
    const body = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
          scopeMetrics: [
            {
              scope: { name: 'test' },
              metrics: [
                {
                  name: 'jobs',
                  unit: '{job}',
                  sum: {
                    isMonotonic: true,
                    dataPoints: [{ asInt: '3', attributes: [{ key: 'state', value: { stringValue: 'done' } }] }],
                  },
                },
                {
                  name: 'took',
                  unit: 's',
                  histogram: {
                    dataPoints: [{ count: '2', sum: 0.5, bucketCounts: ['1', '1'], explicitBounds: [0.1] }],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const response = await fetch(`${receiver.url}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    expect(receiver.metrics()).toMatchObject([
      {
        name: 'jobs',
        unit: '{job}',
        kind: 'sum',
        value: 3,
        attributes: { state: 'done' },
        resource: { 'service.name': 'svc' },
        scope: 'test',
      },
      { name: 'took', unit: 's', kind: 'histogram', count: 2, sum: 0.5, bucketCounts: [1, 1], explicitBounds: [0.1] },
    ]);
    expect(receiver.requests()).toEqual([]);
  });

  it('when waiting for spans times out, then the error lists the received span names', async () => {
    const { provider, tracer } = createProvider(new OTLPProtoTraceExporter({ url: receiver.tracesUrl }));
    tracer.startSpan('only-span').end();
    await provider.forceFlush();
    await provider.shutdown();

    await expect(receiver.waitForSpan((s) => s.name === 'missing', { timeoutMs: 100 })).rejects.toThrow(
      /Timed out after 100ms[\s\S]*only-span \[INTERNAL\]/,
    );
    await expect(receiver.waitForSpan((s) => s.name === 'only-span')).resolves.toMatchObject({ name: 'only-span' });

    receiver.clear();
    expect(receiver.spans()).toEqual([]);
    expect(receiver.requests()).toEqual([]);
  });
});
