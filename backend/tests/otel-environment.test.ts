import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGrpcReceiver, type GrpcReceiver } from '../testing/grpc-receiver';
import { startOtlpReceiver, type OtlpReceiver } from '../testing/otlp-receiver';
import {
  api,
  startServer,
  testEnv,
  tokenFor,
  uniqueUser,
  type LogLine,
  type ServerProcess,
} from '../testing/server-process';

/** A stand-in Zipkin collector: keeps every span posted to /api/v2/spans. */
async function startZipkinReceiver(): Promise<{
  url: string;
  spans: Array<Record<string, any>>;
  close(): Promise<void>;
}> {
  const spans: Array<Record<string, any>> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      spans.push(...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Array<Record<string, any>>));
      res.statusCode = 202;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2/spans`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function until<T>(find: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const warningsAbout = (server: ServerProcess, variable: string) =>
  server.logs().filter((line) => line.level === 'warn' && line.component === 'otel' && line.variable === variable);

describe('the standard OTEL_* variables, set as an operator would, on the real server', () => {
  let otlp: OtlpReceiver;
  let grpc: GrpcReceiver;
  let zipkin: Awaited<ReturnType<typeof startZipkinReceiver>>;
  // A: limits, detectors, instrumentations, diagnostics level, and the values that used to stop start-up
  let a: ServerProcess;
  // B: OTLP over gRPC, B3 multi-header propagation, no resource detectors, attribute count limit
  let b: ServerProcess;
  // C: Zipkin, Jaeger propagation, only the http instrumentation enabled
  let c: ServerProcess;

  beforeAll(async () => {
    [otlp, grpc, zipkin] = await Promise.all([startOtlpReceiver(), startGrpcReceiver(), startZipkinReceiver()]);
    const base = testEnv(inject('databaseUrl'), otlp.url);
    [a, b, c] = await Promise.all([
      startServer({
        env: {
          ...base,
          OTEL_SDK_DISABLED: '1',
          OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '16',
          OTEL_NODE_RESOURCE_DETECTORS: 'process',
          OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg',
          OTEL_LOG_LEVEL: 'DEBUG',
          OTEL_EXPORTER_OTLP_COMPRESSION: 'GZIP',
          OTEL_TRACES_SAMPLER: 'xray',
          OTEL_TRACES_SAMPLER_ARG: '2',
          OTEL_METRICS_EXPORTER: 'OTLP',
          OTEL_LOGS_EXPORTER: 'otlp',
          OTEL_CONFIG_FILE: '/etc/otel/sdk-config.yaml',
          OTEL_EXPORTER_OTLP_HEADERS: 'x-honeycomb-team: s3cr3t-ingest-key',
        },
      }),
      startServer({
        env: {
          ...base,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
          OTEL_EXPORTER_OTLP_ENDPOINT: grpc.url,
          OTEL_PROPAGATORS: 'b3multi,tracecontext',
          OTEL_NODE_RESOURCE_DETECTORS: 'none',
          OTEL_ATTRIBUTE_COUNT_LIMIT: '3',
        },
      }),
      startServer({
        env: {
          ...base,
          OTEL_TRACES_EXPORTER: 'zipkin',
          OTEL_EXPORTER_ZIPKIN_ENDPOINT: zipkin.url,
          OTEL_PROPAGATORS: 'jaeger,b3',
          OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http',
          OTEL_LOG_LEVEL: 'trace',
        },
      }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([a, b, c].map((server) => server?.stop()));
    await Promise.all([otlp?.close(), grpc?.close(), zipkin?.close()]);
  });

  async function sessionOn(server: ServerProcess, headers: Record<string, string> = {}) {
    const token = await tokenFor(uniqueUser());
    const { body: session } = await api(server, 'POST', '/api/sessions', { token, body: { title: 'Loft conversion' } });
    return api(server, 'GET', `/api/sessions/${session.id}`, { token, headers });
  }

  it('when values that used to stop start-up are set, then it starts, warns naming variable and value, and uses the default', () => {
    const expectations: Array<[string, RegExp]> = [
      ['OTEL_SDK_DISABLED', /OTEL_SDK_DISABLED="1".*using false/],
      ['OTEL_TRACES_SAMPLER', /OTEL_TRACES_SAMPLER="xray".*X-Ray.*using the default/],
      ['OTEL_TRACES_SAMPLER_ARG', /OTEL_TRACES_SAMPLER_ARG="2".*ignored/],
      ['OTEL_LOGS_EXPORTER', /does not export logs over OTLP yet/],
      ['OTEL_CONFIG_FILE', /OTEL_CONFIG_FILE is not supported/],
      ['OTEL_EXPORTER_OTLP_HEADERS', /OTEL_EXPORTER_OTLP_HEADERS is malformed.*not sent/],
    ];
    for (const [variable, message] of expectations)
      expect(warningsAbout(a, variable).map((line) => line.msg)).toEqual([expect.stringMatching(message)]);
    // metrics are exported; an enum value in capitals is still a known value: no warning
    expect(warningsAbout(a, 'OTEL_METRICS_EXPORTER')).toEqual([]);
    // an export header carries an API key: never in a log line
    expect(a.output()).not.toContain('s3cr3t-ingest-key');
    // GZIP is accepted case-insensitively: the exporter's own complaint about it is not passed on
    expect(a.output()).not.toMatch(/COMPRESSION is invalid/);
    expect(a.logs().find((line) => line.msg.startsWith('tracing started'))).toMatchObject({
      sampler: 'parentbased_always_on',
      ratio: 1,
    });
  });

  it('when OTEL_SDK_DISABLED=1 (not "true"), then tracing stays on, and OTEL_EXPORTER_OTLP_COMPRESSION=GZIP compresses', async () => {
    const response = await sessionOn(a);
    const traceId = response.headers.get('x-trace-id')!;
    await otlp.waitForSpan((span) => span.traceId === traceId && span.kind === 'SERVER');
    expect(
      otlp
        .requests()
        .filter((request) => request.spanCount > 0)
        .every((request) => request.encoding === 'gzip'),
    ).toBe(true);
  });

  it('when the attribute value length limit is 16, then longer values are cut to 16 characters', async () => {
    const response = await sessionOn(a);
    const span = await otlp.waitForSpan(
      (candidate) => candidate.traceId === response.headers.get('x-trace-id') && candidate.kind === 'SERVER',
    );
    expect(span.attributes['url.path']).toHaveLength(16);
    expect(span.attributes['url.path']).toMatch(/^\/api\/sessions\//);
    expect(
      Object.values(span.attributes)
        .filter((value) => typeof value === 'string')
        .every((value) => (value as string).length <= 16),
    ).toBe(true);
  });

  it('when OTEL_NODE_RESOURCE_DETECTORS=process, then process.* is on the resource and host.* is not', async () => {
    const response = await sessionOn(a);
    const span = await otlp.waitForSpan((candidate) => candidate.traceId === response.headers.get('x-trace-id'));
    expect(span.resource).toMatchObject({ 'process.pid': a.child.pid, 'process.runtime.name': 'nodejs' });
    expect(Object.keys(span.resource).filter((key) => key.startsWith('host.'))).toEqual([]);
    expect(span.resource['service.instance.id']).toBeUndefined();
  });

  it('when OTEL_NODE_DISABLED_INSTRUMENTATIONS=pg, then requests make a server span and no SQL spans', async () => {
    const response = await sessionOn(a);
    const traceId = response.headers.get('x-trace-id')!;
    await otlp.waitForSpan((span) => span.traceId === traceId && span.kind === 'SERVER');
    expect(otlp.trace(traceId).map((span) => span.kind)).toEqual(['SERVER']);
  });

  it('when OTEL_LOG_LEVEL=debug and LOG_LEVEL=info, then OpenTelemetry debug diagnostics appear while the app stays at info', () => {
    const debugLines = a.logs().filter((line: LogLine) => line.level === 'debug');
    expect(debugLines.length).toBeGreaterThan(0);
    expect(debugLines.every((line) => line.component === 'otel')).toBe(true);
  });

  it('when OTEL_EXPORTER_OTLP_PROTOCOL=grpc and OTEL_PROPAGATORS=b3multi, then a B3 trace is continued and its spans arrive over gRPC', async () => {
    const traceId = 'a'.repeat(16) + 'b'.repeat(16);
    const response = await sessionOn(b, {
      'X-B3-TraceId': traceId,
      'X-B3-SpanId': 'c'.repeat(16),
      'X-B3-Sampled': '1',
    });
    expect(response.headers.get('x-trace-id')).toBe(traceId);
    const span = await grpc.waitForSpan((candidate) => candidate.traceId === traceId && candidate.kind === 'SERVER');
    expect(span.parentSpanId).toBe('c'.repeat(16));
    expect(b.logs().find((line) => line.msg.startsWith('tracing started'))).toMatchObject({
      protocol: 'grpc',
      target: grpc.url,
    });
  });

  it('when OTEL_ATTRIBUTE_COUNT_LIMIT=3 and OTEL_NODE_RESOURCE_DETECTORS=none, then spans keep 3 attributes and the resource only what the app sets', async () => {
    const response = await sessionOn(b);
    const span = await grpc.waitForSpan(
      (candidate) => candidate.traceId === response.headers.get('x-trace-id') && candidate.kind === 'SERVER',
    );
    expect(Object.keys(span.attributes).length).toBeLessThanOrEqual(3);
    expect(
      Object.keys(span.resource).filter(
        (key) => key.startsWith('host.') || key.startsWith('process.') || key === 'service.instance.id',
      ),
    ).toEqual([]);
    expect(span.resource['service.name']).toBe('renovation-agent-backend');
  });

  it('when OTEL_TRACES_EXPORTER=zipkin and OTEL_PROPAGATORS=jaeger with only http enabled, then a Jaeger trace reaches Zipkin without SQL spans', async () => {
    const traceId = 'd'.repeat(32);
    const response = await sessionOn(c, { 'uber-trace-id': `${traceId}:${'e'.repeat(16)}:0:1` });
    expect(response.headers.get('x-trace-id')).toBe(traceId);
    const span = await until(
      () => zipkin.spans.find((candidate) => candidate.traceId === traceId && candidate.kind === 'SERVER'),
      'the Zipkin span',
    );
    expect(span).toMatchObject({
      parentId: 'e'.repeat(16),
      localEndpoint: { serviceName: 'renovation-agent-backend' },
    });
    expect(
      zipkin.spans.filter((candidate) => candidate.traceId === traceId).map((candidate) => candidate.kind),
    ).toEqual(['SERVER']);
    expect(c.logs().find((line) => line.msg.startsWith('tracing started'))).toMatchObject({
      exporters: ['zipkin'],
      instrumentations: ['http'],
    });
  });

  it('when OTEL_PROPAGATORS also names b3, then a single-header B3 trace is continued too', async () => {
    const traceId = 'f'.repeat(32);
    const response = await sessionOn(c, { b3: `${traceId}-${'1'.repeat(16)}-1` });
    expect(response.headers.get('x-trace-id')).toBe(traceId);
    expect(
      await until(() => zipkin.spans.find((candidate) => candidate.traceId === traceId), 'the B3 span'),
    ).toMatchObject({ parentId: '1'.repeat(16) });
  });

  it('when OTEL_LOG_LEVEL=trace (not a spec level), then it starts with a warning and diagnostics at info', () => {
    expect(warningsAbout(c, 'OTEL_LOG_LEVEL').map((line) => line.msg)).toEqual([
      expect.stringMatching(/OTEL_LOG_LEVEL="trace" is not supported.*using "info"/),
    ]);
    expect(c.logs().some((line) => line.component === 'otel' && line.level === 'debug')).toBe(false);
  });
});
