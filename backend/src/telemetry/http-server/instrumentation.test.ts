import type * as Http from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator, isTracingSuppressed } from '@opentelemetry/core';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TracerProvider,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setHttpRoute } from '../span';
import { HttpServerInstrumentation } from './instrumentation';

/**
 * What upstream instrumentation-http's tests check for the server side, on a real
 * node:http server and client in this process: route and status, errors, propagation in
 * and out of sampling, ignored paths, aborted requests, keep-alive and pipelining (each
 * request its own context, nothing leaking into the next one on the socket).
 */
describe('HttpServerInstrumentation (real node:http server and client)', () => {
  const spans = new InMemorySpanExporter();
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  // ratio 0 for roots: a request is sampled only when its traceparent says so
  const provider = new TracerProvider({
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0) }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: spans })],
  });
  let instrumentation: HttpServerInstrumentation;
  let http: typeof Http;
  let server: Http.Server;
  let base: string;
  /** What each request saw of its context, by the `x-test` header it was sent with. */
  const seen = new Map<string, { traceId?: string; suppressed: boolean; afterBody?: string; later?: string }>();

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    instrumentation = new HttpServerInstrumentation({
      ignoreIncomingRequestHook: (request) => request.url === '/health',
      redactedQueryParams: ['token'],
      requestHook: (span, request) => span.setAttribute('test.hook', String(request.headers['x-test'])),
    });
    instrumentation.setTracerProvider(provider);
    instrumentation.setMeterProvider(meterProvider);
    // loaded after the instrumentation is enabled, as the app loads it: the prototypes are patched
    http = require('node:http') as typeof Http;
    server = http.createServer((request, response) => {
      const key = String(request.headers['x-test']);
      const traceIdNow = () => trace.getSpan(context.active())?.spanContext().traceId;
      seen.set(key, { traceId: traceIdNow(), suppressed: isTracingSuppressed(context.active()) });
      const path = request.url?.split('?')[0] ?? '/';
      if (path.startsWith('/items/')) setHttpRoute('/items/:id');
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        // the body's events come from the socket: they must still run in this request's context
        seen.get(key)!.afterBody = traceIdNow();
        setImmediate(() => {
          seen.get(key)!.later = traceIdNow();
        });
        const delay = Number(request.headers['x-delay'] ?? 0);
        setTimeout(() => {
          if (path === '/fail') response.writeHead(503).end('down');
          else if (path === '/hang') return;
          else response.writeHead(200, { 'content-type': 'text/plain' }).end(`ok ${Buffer.concat(chunks).length}`);
        }, delay);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(() => {
    spans.reset();
    seen.clear();
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    instrumentation.disable();
    await meterProvider.shutdown();
    context.disable();
  });

  const traceparent = (traceId: string, sampled: boolean) => `00-${traceId}-00f067aa0ba902b7-${sampled ? '01' : '00'}`;
  const randomTraceId = () => crypto.randomUUID().replaceAll('-', '');

  async function durationPoints() {
    await reader.forceFlush();
    const metrics =
      metricExporter
        .getMetrics()
        .at(-1)
        ?.scopeMetrics.flatMap((scope) => scope.metrics) ?? [];
    metricExporter.reset();
    return metrics.find((metric) => metric.descriptor.name === 'http.server.request.duration')?.dataPoints ?? [];
  }
  function countOf(
    points: Awaited<ReturnType<typeof durationPoints>>,
    match: (attributes: Record<string, unknown>) => boolean,
  ): number {
    return points
      .filter((point) => match(point.attributes))
      .reduce((sum, point) => sum + (point.value as { count: number }).count, 0);
  }
  /** Polls until `done` holds; gives up after 10 s (a busy machine), and the caller's expectations then fail. */
  async function until(done: () => boolean): Promise<void> {
    for (let i = 0; i < 1_000 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  async function finishedSpans(count: number): Promise<ReadableSpan[]> {
    await until(() => spans.getFinishedSpans().length >= count);
    return spans.getFinishedSpans();
  }

  it('when a sampled request hits a route, then its span is named by method and route and carries the conventions’ attributes, and the metric counts it by route and status', async () => {
    const traceId = randomTraceId();
    const before = countOf(
      await durationPoints(),
      (a) => a['http.route'] === '/items/:id' && a['http.response.status_code'] === 200,
    );
    const response = await fetch(`${base}/items/42?token=s3cret&limit=5`, {
      headers: { traceparent: traceparent(traceId, true), 'x-test': 'route', 'user-agent': 'test-agent' },
    });
    expect(await response.text()).toBe('ok 0');
    const [span] = await finishedSpans(1);
    expect(span).toMatchObject({ name: 'GET /items/:id', kind: 1 });
    expect(span!.spanContext().traceId).toBe(traceId);
    expect(span!.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(span!.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/items/:id',
      'http.response.status_code': 200,
      'url.path': '/items/42',
      'url.query': 'token=REDACTED&limit=5',
      'client.address': '127.0.0.1',
      'user_agent.original': 'test-agent',
      'test.hook': 'route',
    });
    expect(span!.status.code).toBe(0);
    expect(span!.attributes['error.type']).toBeUndefined();
    const after = countOf(
      await durationPoints(),
      (a) =>
        a['http.route'] === '/items/:id' &&
        a['http.response.status_code'] === 200 &&
        a['http.request.method'] === 'GET',
    );
    expect(after - before).toBe(1);
  });

  it('when the server answers 5xx, then the span is ERROR with error.type the status code, and so is the metric point', async () => {
    const response = await fetch(`${base}/fail`, {
      headers: { traceparent: traceparent(randomTraceId(), true), 'x-test': 'fail' },
    });
    expect(response.status).toBe(503);
    const [span] = await finishedSpans(1);
    expect(span!.status.code).toBe(2);
    expect(span!.attributes).toMatchObject({ 'http.response.status_code': 503, 'error.type': '503' });
    expect(
      countOf(await durationPoints(), (a) => a['http.response.status_code'] === 503 && a['error.type'] === '503'),
    ).toBeGreaterThanOrEqual(1);
  });

  it('when a request is not sampled, then there is no span, yet its handler and body events run in the propagated trace, and the metric still counts it', async () => {
    const traceId = randomTraceId();
    const before = countOf(await durationPoints(), (a) => a['http.route'] === '/items/:id');
    const response = await fetch(`${base}/items/7`, {
      method: 'POST',
      body: 'x'.repeat(100_000),
      headers: { traceparent: traceparent(traceId, false), 'x-test': 'unsampled' },
    });
    expect(await response.text()).toBe('ok 100000');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(spans.getFinishedSpans()).toEqual([]);
    expect(seen.get('unsampled')).toEqual({ traceId, suppressed: false, afterBody: traceId, later: traceId });
    expect(countOf(await durationPoints(), (a) => a['http.route'] === '/items/:id') - before).toBe(1);
  });

  it('when a path is ignored, then it gets no span and no metric, and tracing is suppressed below it', async () => {
    const before = await durationPoints();
    const response = await fetch(`${base}/health`, {
      headers: { traceparent: traceparent(randomTraceId(), true), 'x-test': 'health' },
    });
    expect(response.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(spans.getFinishedSpans()).toEqual([]);
    expect(seen.get('health')?.suppressed).toBe(true);
    const all = (points: typeof before) => countOf(points, () => true);
    expect(all(await durationPoints())).toBe(all(before));
  });

  it('when the client goes away before the response, then the span still ends, ERROR with error.type aborted and no status code', async () => {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    socket.write(
      `GET /hang HTTP/1.1\r\nhost: x\r\ntraceparent: ${traceparent(randomTraceId(), true)}\r\nx-test: abort\r\n\r\n`,
    );
    for (let i = 0; i < 100 && !seen.has('abort'); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    socket.destroy();
    const [span] = await finishedSpans(1);
    expect(span!.status.code).toBe(2);
    expect(span!.attributes['error.type']).toBe('aborted');
    expect(span!.attributes['http.response.status_code']).toBeUndefined();
    expect(countOf(await durationPoints(), (a) => a['error.type'] === 'aborted')).toBeGreaterThanOrEqual(1);
  });

  it('when several requests share one keep-alive socket, then each runs in its own context, sampled or not, and nothing leaks into the next', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const ids = [randomTraceId(), randomTraceId(), randomTraceId(), randomTraceId()];
    const sockets = new Set<unknown>();
    for (const [i, traceId] of ids.entries()) {
      await new Promise<void>((resolve, reject) => {
        const headers = { 'x-test': `ka-${i}`, ...(i === 3 ? {} : { traceparent: traceparent(traceId, i % 2 === 0) }) };
        const request = http.request(`${base}/items/${i}`, { method: 'POST', agent, headers }, (response) => {
          sockets.add(request.socket);
          response.resume();
          response.on('end', resolve);
        });
        request.on('error', reject);
        request.end(`body ${i}`);
      });
    }
    agent.destroy();
    expect(sockets.size).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (const i of [0, 1, 2])
      expect(seen.get(`ka-${i}`), `request ${i}`).toEqual({
        traceId: ids[i],
        suppressed: false,
        afterBody: ids[i],
        later: ids[i],
      });
    // no traceparent: a fresh trace of its own, not the previous request's
    const fresh = seen.get('ka-3')!;
    expect(fresh.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(ids).not.toContain(fresh.traceId);
    expect(fresh.afterBody).toBe(fresh.traceId);
    const finished = await finishedSpans(2);
    expect(finished.map((span) => span.spanContext().traceId).sort()).toEqual([ids[0], ids[2]].sort());
  });

  it('when two requests are pipelined on one connection, then each gets its own span and context, and both end', async () => {
    const [first, second] = [randomTraceId(), randomTraceId()];
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
    });
    socket.write(
      `GET /items/1 HTTP/1.1\r\nhost: x\r\ntraceparent: ${traceparent(first, true)}\r\nx-test: pipe-1\r\nx-delay: 30\r\n\r\n` +
        `GET /items/2 HTTP/1.1\r\nhost: x\r\ntraceparent: ${traceparent(second, true)}\r\nx-test: pipe-2\r\n\r\n`,
    );
    const finished = await finishedSpans(2);
    // the spans end as the responses are written: the client reads them a moment later
    await until(() => (received.match(/HTTP\/1\.1 200/g) ?? []).length >= 2);
    socket.destroy();
    expect(received.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
    expect(finished.map((span) => span.spanContext().traceId).sort()).toEqual([first, second].sort());
    expect(
      finished.every((span) => span.name === 'GET /items/:id' && span.attributes['http.response.status_code'] === 200),
    ).toBe(true);
    expect(seen.get('pipe-1')).toMatchObject({ traceId: first, afterBody: first });
    expect(seen.get('pipe-2')).toMatchObject({ traceId: second, afterBody: second });
  });

  it('when the instrumentation is disabled, then requests are served untouched', async () => {
    instrumentation.disable();
    try {
      const response = await fetch(`${base}/items/1`, {
        headers: { traceparent: traceparent(randomTraceId(), true), 'x-test': 'off' },
      });
      expect(response.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(spans.getFinishedSpans()).toEqual([]);
      expect(seen.get('off')?.traceId).toBeUndefined();
    } finally {
      instrumentation.enable();
    }
  });
});
