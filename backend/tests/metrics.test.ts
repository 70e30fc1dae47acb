import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { startGeminiStandIn, type GeminiStandIn } from '../src/dev/gemini-stand-in/server';
import { connectChat } from '../testing/chat-client';
import { inParallel } from '../testing/load';
import type { ReceivedMetricPoint } from '../testing/otlp-metrics';
import { startOtlpReceiver, type OtlpReceiver } from '../testing/otlp-receiver';
import { grafanaPanelQueries, hasBinary, startPrometheus, type PrometheusServer } from '../testing/prometheus';
import { ROOT, api, startServer, testEnv, type ServerProcess } from '../testing/server-process';
import { newUserSession } from '../testing/stack';

/** A chat with a tool call and a background plan: every kind of work the dashboards show. */
async function exercise(server: ServerProcess, requests = 40) {
  const { token, sessionId } = await newUserSession(server);
  await inParallel(requests, 8, () => api(server, 'GET', `/api/sessions/${sessionId}`, { token }));
  await api(server, 'GET', '/api/sessions/not-a-uuid', { token });
  const chat = await connectChat(server.url, { token });
  expect((await chat.send({ sessionId, content: 'What does a 12 m2 kitchen cost?' })).ok).toBe(true);
  expect((await chat.nextReply()).error).toBeUndefined();
  const ready = new Promise((resolve) => chat.socket.once('plan:ready', resolve));
  expect((await api(server, 'POST', `/api/sessions/${sessionId}/plan`, { token })).status).toBe(202);
  await ready;
  chat.close();
  return { token, sessionId };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const total = (
  points: ReceivedMetricPoint[],
  name: string,
  match: (point: ReceivedMetricPoint) => boolean = () => true,
) =>
  points
    .filter((point) => point.name === name && match(point))
    .reduce((sum, point) => sum + (point.count ?? point.value ?? 0), 0);

describe('metrics over OTLP, for every request at ratio 0', () => {
  let receiver: OtlpReceiver;
  let gemini: GeminiStandIn;
  let server: ServerProcess;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    gemini = await startGeminiStandIn({ chunkDelayMs: 0 });
    server = await startServer({
      env: {
        ...testEnv(inject('databaseUrl'), receiver.url),
        GEMINI_BASE_URL: gemini.baseUrl,
        GEMINI_API_KEY: 'test-key',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0',
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
        OTEL_METRIC_EXPORT_INTERVAL: '500',
        OTEL_METRIC_EXPORT_TIMEOUT: '400',
      },
    });
  });

  afterAll(async () => {
    await server?.stop();
    await gemini?.close();
    await receiver?.close();
  });

  it('when nothing is sampled, then every request, query, model call, socket event and job is still counted, with the conventions’ names, units and attributes', async () => {
    const requests = 40;
    const { sessionId } = await exercise(server, requests);
    const route = (point: ReceivedMetricPoint) => point.attributes['http.route'] === '/api/sessions/:sessionId';
    // cumulative temporality: the latest export holds the totals
    const points = await receiver
      .waitForMetrics(
        (all) =>
          total(latest(all), 'http.server.request.duration', route) >= requests + 1 &&
          total(latest(all), 'renovation.plan_job.duration') >= 1,
        { timeoutMs: 20_000 },
      )
      .then(latest);

    // nothing was traced, and yet every request is in the histogram, by route, method and status
    expect(receiver.spans().filter((span) => span.kind === 'SERVER')).toEqual([]);
    const http = points.filter((point) => point.name === 'http.server.request.duration');
    expect(http[0]).toMatchObject({ kind: 'histogram', unit: 's' });
    expect(
      total(
        points,
        'http.server.request.duration',
        (point) => route(point) && point.attributes['http.response.status_code'] === 200,
      ),
    ).toBe(requests);
    expect(
      total(
        points,
        'http.server.request.duration',
        (point) => route(point) && point.attributes['http.response.status_code'] === 400,
      ),
    ).toBe(1);
    expect(http.find(route)?.attributes).toMatchObject({ 'http.request.method': 'GET' });

    // queries under unsampled traces skip the instrumentation, not the metric
    const db = points.filter((point) => point.name === 'db.client.operation.duration');
    expect(db[0]).toMatchObject({
      kind: 'histogram',
      unit: 's',
      attributes: expect.objectContaining({ 'db.system.name': 'postgresql' }),
    });
    expect(
      total(points, 'db.client.operation.duration', (point) => point.attributes['db.operation.name'] === 'SELECT'),
    ).toBeGreaterThanOrEqual(2 * requests);

    // model calls: duration, tokens by type, time to first chunk, cost
    const genai = (point: ReceivedMetricPoint) =>
      point.attributes['gen_ai.provider.name'] === 'gcp.gemini' &&
      point.attributes['gen_ai.request.model'] === 'gemini-2.5-flash';
    expect(total(points, 'gen_ai.client.operation.duration', genai)).toBeGreaterThanOrEqual(4);
    expect(points.find((point) => point.name === 'gen_ai.client.operation.duration')).toMatchObject({
      unit: 's',
      attributes: expect.objectContaining({
        'gen_ai.operation.name': 'chat',
        'gen_ai.response.model': expect.any(String),
      }),
    });
    const tokens = points.filter((point) => point.name === 'gen_ai.client.token.usage');
    expect(new Set(tokens.map((point) => point.attributes['gen_ai.token.type']))).toEqual(new Set(['input', 'output']));
    expect(tokens[0]?.unit).toBe('{token}');
    expect(total(points, 'gen_ai.client.operation.time_to_first_chunk', genai)).toBeGreaterThanOrEqual(4);
    expect(total(points, 'renovation.gen_ai.cost', genai)).toBeGreaterThan(0);

    // Socket.io and jobs
    expect(
      total(
        points,
        'messaging.process.duration',
        (point) => point.attributes['messaging.operation.name'] === 'chat:user_message',
      ),
    ).toBe(1);
    expect(points.some((point) => point.name === 'renovation.socketio.connections')).toBe(true);
    expect(
      total(
        points,
        'renovation.plan_job.duration',
        (point) => point.attributes['renovation.job.outcome'] === 'completed',
      ),
    ).toBe(1);
    expect(points.some((point) => point.name === 'renovation.plan_job.queue.depth')).toBe(true);

    // the pipeline and the runtime
    // each request's dropped server span, by parent origin and decision (the SDK's counter)
    expect(
      total(
        points,
        'otel.sdk.span.started',
        (point) =>
          point.attributes['otel.span.sampling_result'] === 'DROP' &&
          point.attributes['otel.span.parent.origin'] === 'none',
      ),
    ).toBeGreaterThanOrEqual(requests);
    // the pool's connections by state (instrumentation-pg's counters: sdk/pg-pool-metrics.ts)
    const pool = points.filter((point) => point.name === 'db.client.connection.count');
    expect(new Set(pool.map((point) => point.attributes['db.client.connection.state']))).toEqual(
      new Set(['used', 'idle']),
    );
    expect(total(points, 'db.client.connection.count')).toBeGreaterThanOrEqual(1);
    expect(points.some((point) => point.name === 'otel.sdk.processor.span.queue.capacity')).toBe(true);
    expect(points.some((point) => point.name === 'nodejs.eventloop.delay.p99')).toBe(true);

    // bounded cardinality: no raw path, user, session or message id in any metric
    const keys = new Set(points.flatMap((point) => Object.keys(point.attributes)));
    for (const key of [
      'url.path',
      'url.full',
      'enduser.id',
      'user.id',
      'session.id',
      'gen_ai.conversation.id',
      'request.id',
    ])
      expect(keys, key).not.toContain(key);
    expect(JSON.stringify(points)).not.toContain(sessionId);

    // no sampled span, no exemplar
    expect(receiver.metrics().flatMap((point) => point.exemplars)).toEqual([]);
  });
});

/** Histogram points that carry exemplars, by metric name. */
const withExemplars = (points: ReceivedMetricPoint[], name: string) =>
  points.filter((point) => point.name === name && point.exemplars.length > 0);

const EXEMPLAR_METRICS = [
  'http.server.request.duration',
  'db.client.operation.duration',
  'gen_ai.client.operation.duration',
] as const;

describe.each(['http/protobuf', 'http/json'] as const)('exemplars over OTLP %s, every trace sampled', (protocol) => {
  let receiver: OtlpReceiver;
  let gemini: GeminiStandIn;
  let server: ServerProcess;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    gemini = await startGeminiStandIn({ chunkDelayMs: 0 });
    server = await startServer({
      env: {
        ...testEnv(inject('databaseUrl'), receiver.url),
        GEMINI_BASE_URL: gemini.baseUrl,
        GEMINI_API_KEY: 'test-key',
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol,
        OTEL_METRIC_EXPORT_INTERVAL: '500',
        OTEL_METRIC_EXPORT_TIMEOUT: '400',
      },
    });
  });

  afterAll(async () => {
    await server?.stop();
    await gemini?.close();
    await receiver?.close();
  });

  it('when requests, queries and a chat ran in sampled traces, then their latency histograms carry exemplars that point at spans the receiver holds', async () => {
    await exercise(server, 10);
    const points = await receiver.waitForMetrics(
      (all) => EXEMPLAR_METRICS.every((name) => withExemplars(all, name).length > 0),
      { timeoutMs: 20_000 },
    );
    expect(new Set(receiver.metricRequests().map((request) => request.contentType.split(';')[0]))).toEqual(
      new Set([protocol === 'http/json' ? 'application/json' : 'application/x-protobuf']),
    );
    // the spans of those traces are exported on their own schedule
    const spans = await receiver.waitForSpans(
      (all) => {
        const held = new Set(all.map((span) => span.spanId));
        return EXEMPLAR_METRICS.every((name) =>
          withExemplars(points, name).some((point) => point.exemplars.some((e) => held.has(e.spanId ?? ''))),
        );
      },
      { timeoutMs: 20_000 },
    );
    const spanById = new Map(spans.map((span) => [span.spanId, span]));
    for (const name of EXEMPLAR_METRICS) {
      const exemplars = withExemplars(points, name).flatMap((point) =>
        point.exemplars.map((exemplar) => ({ ...exemplar, bounds: point.explicitBounds ?? [] })),
      );
      const held = exemplars.filter((exemplar) => spanById.get(exemplar.spanId ?? '')?.traceId === exemplar.traceId);
      expect(held.length, `${name}: an exemplar whose trace and span the receiver holds`).toBeGreaterThan(0);
      for (const exemplar of exemplars) {
        expect(exemplar.traceId, name).toMatch(/^[0-9a-f]{32}$/);
        expect(exemplar.spanId, name).toMatch(/^[0-9a-f]{16}$/);
        expect(exemplar.value, name).toBeGreaterThanOrEqual(0);
      }
    }
    // the request's exemplar points into the request's own trace: its server span or one below it
    const http = withExemplars(points, 'http.server.request.duration').find(
      (point) => point.attributes['http.route'] === '/api/sessions/:sessionId',
    );
    const exemplar = http?.exemplars.find((e) => spanById.has(e.spanId ?? ''));
    expect(exemplar, 'an exemplar on GET /api/sessions/:sessionId').toBeDefined();
    expect(receiver.trace(exemplar!.traceId!).some((span) => span.name === 'GET /api/sessions/:sessionId')).toBe(true);
  });
});

describe('exemplars turned off: OTEL_METRICS_EXEMPLAR_FILTER=always_off', () => {
  it('when every trace is sampled but the filter is always_off, then no data point carries an exemplar', async () => {
    const receiver = await startOtlpReceiver();
    const server = await startServer({
      env: {
        ...testEnv(inject('databaseUrl'), receiver.url),
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_METRICS_EXEMPLAR_FILTER: 'always_off',
        OTEL_METRIC_EXPORT_INTERVAL: '500',
        OTEL_METRIC_EXPORT_TIMEOUT: '400',
      },
    });
    try {
      const { token, sessionId } = await newUserSession(server);
      await inParallel(5, 5, () => api(server, 'GET', `/api/sessions/${sessionId}`, { token }));
      const points = await receiver.waitForMetrics(
        (all) =>
          total(
            latest(all),
            'http.server.request.duration',
            (point) => point.attributes['http.route'] === '/api/sessions/:sessionId',
          ) >= 5 && total(latest(all), 'db.client.operation.duration') > 0,
        { timeoutMs: 20_000 },
      );
      await receiver.waitForSpan((span) => span.name === 'GET /api/sessions/:sessionId');
      expect(points.flatMap((point) => point.exemplars)).toEqual([]);
    } finally {
      await server.stop();
      await receiver.close();
    }
  });
});

/** The points of the most recent export of each metric stream (cumulative totals). */
function latest(points: ReceivedMetricPoint[]): ReceivedMetricPoint[] {
  const last = new Map<string, ReceivedMetricPoint>();
  for (const point of points) last.set(`${point.name}|${point.scope}|${JSON.stringify(point.attributes)}`, point);
  return [...last.values()];
}

const havePrometheus = hasBinary('prometheus');
if (!havePrometheus)
  console.warn(
    '\n⚠️  prometheus is not on PATH: the dashboard test against a real Prometheus is SKIPPED (Debian package `prometheus`).\n',
  );

describe.skipIf(!havePrometheus)(
  'a real Prometheus scraping the server: every dashboard panel and the AI-latency alert',
  () => {
    let prometheus: PrometheusServer;
    let receiver: OtlpReceiver;
    let ports: number[];
    let fastModel: GeminiStandIn;
    let slowModel: GeminiStandIn;
    const servers: ServerProcess[] = [];

    beforeAll(async () => {
      [fastModel, slowModel] = await Promise.all([
        startGeminiStandIn({ chunkDelayMs: 0 }),
        startGeminiStandIn({ chunkDelayMs: 0, latencyMs: 3_500 }),
      ]);
      ports = [await freePort(), await freePort()];
      receiver = await startOtlpReceiver();
      const start = (model: string, gemini: GeminiStandIn, port: number) =>
        startServer({
          env: {
            ...testEnv(inject('databaseUrl'), receiver.url),
            GEMINI_BASE_URL: gemini.baseUrl,
            GEMINI_API_KEY: 'test-key',
            GEMINI_MODEL: model,
            OTEL_METRICS_EXPORTER: 'prometheus',
            OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
            OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
          },
        });
      servers.push(
        await start('gemini-2.5-flash', fastModel, ports[0]!),
        await start('gemini-2.5-pro', slowModel, ports[1]!),
      );
      prometheus = await startPrometheus({
        scrapeTargets: ports.map((port) => `127.0.0.1:${port}`),
        scrapeIntervalMs: 1_000,
      });
      afterAll(() => receiver.close());
    });

    afterAll(async () => {
      await Promise.all(servers.map((server) => server.stop()));
      await prometheus?.stop();
      await Promise.all([fastModel?.close(), slowModel?.close()]);
    });

    it('when the app has served requests, a chat and a plan, then every panel query returns a series, and the AI-latency alert is above its threshold only for the slow model', async () => {
      await Promise.all(servers.map((server) => exercise(server, 20)));
      // both plans scraped, then two more scrapes, so rate() has two samples of everything
      await prometheus.waitForSeries('count(renovation_plan_job_duration_count > 0) == 2', 30_000);
      await new Promise((resolve) => setTimeout(resolve, 2_500));

      const dashboard = JSON.parse(
        readFileSync(path.join(ROOT, 'observability/grafana/renovation-agent.json'), 'utf8'),
      );
      const empty: string[] = [];
      for (const query of grafanaPanelQueries(dashboard)) {
        // series of failures exist only once something failed: those panels are allowed to be empty here
        if (query.expr.includes('error_type!=""') || query.expr.includes("error_type!=''")) continue;
        const series = await prometheus.query(query.expr);
        if (series.length === 0) empty.push(`${query.panel} [${query.refId}]: ${query.expr}`);
      }
      expect(empty, empty.join('\n')).toEqual([]);

      const rules = parse(readFileSync(path.join(ROOT, 'observability/prometheus/alerts.yml'), 'utf8')) as {
        groups: Array<{ rules: Array<{ alert?: string; expr: string }> }>;
      };
      const latency = rules.groups.flatMap((group) => group.rules).find((rule) => rule.alert === 'GenAILatencyHigh')!;
      const firing = await prometheus.query(latency.expr);
      expect(firing.map((series) => series.metric.gen_ai_request_model)).toEqual(['gemini-2.5-pro']);
      expect(Number(firing[0]!.value[1])).toBeGreaterThan(3);
    });

    it('when a scraper asks for OpenMetrics, then bucket lines carry exemplars of held traces, Prometheus stores them, and a plain scrape is the text format as before', async () => {
      const url = `http://127.0.0.1:${ports[0]}/metrics`;
      const plain = await fetch(url);
      expect(plain.headers.get('content-type')).toBe('text/plain');
      const text = await plain.text();
      expect(text).toMatch(/^# TYPE otel_sdk_span_started_total counter$/m);
      expect(text).toMatch(/^# UNIT http_server_request_duration s$/m);
      expect(text).not.toContain('# EOF');
      expect(text).not.toMatch(/_bucket\{.*\} \d+ # \{/);

      const open = await fetch(url, { headers: { accept: 'application/openmetrics-text;version=1.0.0' } });
      expect(open.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
      const openText = await open.text();
      expect(openText.endsWith('\n# EOF\n')).toBe(true);
      expect(openText).toMatch(/^# TYPE otel_sdk_span_started counter$/m);
      expect(openText).toMatch(/^otel_sdk_span_started_total\{/m);
      expect(openText).not.toContain('# UNIT');
      const exemplar =
        /^http_server_request_duration_bucket\{.*le="([^"]+)"\} \d+ # \{trace_id="([0-9a-f]{32})",span_id="([0-9a-f]{16})"\} ([\d.e-]+) [\d.]+$/m.exec(
          openText,
        );
      expect(exemplar, 'an exemplar on an http.server.request.duration bucket').not.toBeNull();
      const [, le, traceId, spanId, value] = exemplar!;
      expect(Number(value)).toBeLessThanOrEqual(le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le));
      await receiver.waitForSpans((spans) => spans.some((span) => span.traceId === traceId && span.spanId === spanId));

      // Prometheus negotiated OpenMetrics and kept the exemplars
      const stored = await prometheus.exemplars('http_server_request_duration_bucket');
      const traceIds = stored.flatMap((series) => series.exemplars.map((e) => e.labels.trace_id));
      expect(traceIds.length).toBeGreaterThan(0);
      const held = new Set(receiver.spans().map((span) => span.traceId));
      expect(traceIds.some((id) => held.has(id!))).toBe(true);
      const genai = await prometheus.exemplars('gen_ai_client_operation_duration_bucket');
      expect(genai.flatMap((series) => series.exemplars).length).toBeGreaterThan(0);
    });
  },
);
