import { afterEach, describe, expect, inject, it } from 'vitest';
import { atRate, inParallel, percentile, rssMiB } from '../testing/load';
import { startOtlpReceiver, type OtlpReceiver } from '../testing/otlp-receiver';
import { api, startServer, testEnv, tokenFor, uniqueUser, type ServerProcess } from '../testing/server-process';

describe('export: riding out backend outages, bounded memory, nothing secret', () => {
  let receiver: OtlpReceiver | undefined;
  let server: ServerProcess | undefined;

  afterEach(async () => {
    server?.child.kill('SIGKILL');
    await receiver?.close();
    server = undefined;
    receiver = undefined;
  });

  it('when the backend answers 503 for 15 s and then refuses connections for 15 s, then every span arrives once after it recovers, and requests stay as fast', async () => {
    receiver = await startOtlpReceiver();
    server = await startServer({
      env: {
        ...testEnv(inject('databaseUrl'), receiver.url),
        OTEL_BSP_SCHEDULE_DELAY: '200',
        OTEL_EXPORTER_OTLP_TIMEOUT: '1500',
        TRACE_EXPORT_RETRY_MAX_DELAY_MS: '1000',
      },
    });
    const token = await tokenFor(uniqueUser());
    const request = () => api(server!, 'GET', '/api/sessions', { token });

    const before = await atRate(15, 3_000, request);
    await receiver.setMode('unavailable');
    const during503 = await atRate(15, 15_000, request);
    await receiver.setMode('refuse');
    const duringRefused = await atRate(15, 15_000, request);
    await receiver.setMode('ok');
    const after = await atRate(15, 1_000, request);

    const all = [...before, ...during503, ...duringRefused, ...after];
    expect(all.every(({ result }) => result.status === 200)).toBe(true);
    const traceIds = new Set(all.map(({ result }) => result.headers.get('x-trace-id')!));
    expect(traceIds.size).toBe(all.length);
    await receiver.waitForSpans(
      (spans) => spans.filter((span) => span.kind === 'SERVER' && traceIds.has(span.traceId)).length >= traceIds.size,
      {
        timeoutMs: 30_000,
      },
    );

    const spans = receiver.spans();
    const ids = spans.map((span) => span.spanId);
    expect(new Set(ids).size).toBe(ids.length); // none twice
    const roots = spans.filter((span) => span.kind === 'SERVER' && traceIds.has(span.traceId));
    expect(roots).toHaveLength(traceIds.size);
    // every root's children came too: its query
    for (const root of roots.slice(0, 50))
      expect(
        receiver
          .trace(root.traceId)
          .map((span) => span.name)
          .sort(),
      ).toEqual(['GET /api/sessions', 'SELECT renovation_sessions']);

    const statuses = new Set(receiver.requests().map((request) => request.status));
    expect(statuses).toContain(503);
    const logs = server.logs();
    expect(logs.some((line) => line.msg === 'span export failing; spans are kept and retried')).toBe(true);
    expect(logs.find((line) => line.msg === 'span export working again; sending what was kept')).toMatchObject({
      retriedBatches: expect.any(Number),
    });

    // the outage never reached a request: latency during it is what it was before
    const p50 = (samples: typeof all) =>
      percentile(
        samples.map(({ ms }) => ms),
        50,
      );
    const outage = [...during503, ...duringRefused];
    expect(p50(outage)).toBeLessThan(p50(before) * 3 + 10);
    // a request that waited on export would wait for the export timeout (1.5 s here): none did
    expect(
      percentile(
        outage.map(({ ms }) => ms),
        99,
      ),
    ).toBeLessThan(1_500);
  }, 90_000);

  it('when the backend stays down under thousands of requests, then the buffer stays bounded, drops are counted and logged, and SIGTERM exits in time with the undelivered count in the last line', async () => {
    receiver = await startOtlpReceiver();
    await receiver.setMode('refuse');
    server = await startServer({
      env: {
        ...testEnv(inject('databaseUrl'), receiver.url),
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
        TRACE_EXPORT_BUFFER_SPANS: '500',
        SHUTDOWN_TIMEOUT_MS: '4000',
      },
    });
    const token = await tokenFor(uniqueUser());
    const rss: number[] = [];
    for (let phase = 0; phase < 4; phase++) {
      await inParallel(1500, 16, () => api(server!, 'GET', '/api/sessions', { token }));
      rss.push(rssMiB(server.child.pid!));
    }

    const drop = await server.waitForLog((line) => line.msg === 'span buffer full: oldest spans dropped');
    expect(drop.bufferedSpans).toBeLessThanOrEqual(500);
    expect(drop.droppedSpans).toBeGreaterThan(0);
    // RSS is a coarse gauge (V8 grows its heap lazily: with forced GCs the heap stays at ~35 MiB
    // here, see README); what matters is that it does not climb with the 12,000 spans sent
    expect(rss[3]! - rss[0]!).toBeLessThan(100);

    const { code, ms } = await server.stop('SIGTERM');
    expect(code).toBe(0);
    expect(ms).toBeLessThan(4_000);
    const last = server.logs().at(-1)!;
    expect(last).toMatchObject({
      msg: 'shutdown complete',
      undeliveredSpans: expect.any(Number),
      droppedSpans: expect.any(Number),
    });
    expect(last.undeliveredSpans as number).toBeGreaterThan(0);
    expect(last.undeliveredSpans as number).toBeLessThanOrEqual(500);
    expect((last.droppedSpans as number) + (last.undeliveredSpans as number)).toBeGreaterThanOrEqual(6000 * 2 - 500);
  }, 120_000);

  it('when SIGTERM arrives while the backend answers 503, then the process still exits within the deadline and says what was not delivered', async () => {
    receiver = await startOtlpReceiver();
    server = await startServer({
      env: {
        ...testEnv(inject('databaseUrl'), receiver.url),
        OTEL_BSP_SCHEDULE_DELAY: '100',
        SHUTDOWN_TIMEOUT_MS: '3000',
      },
    });
    const token = await tokenFor(uniqueUser());
    await receiver.setMode('unavailable');
    await inParallel(50, 10, () => api(server!, 'GET', '/api/sessions', { token }));
    const { code, ms } = await server.stop('SIGTERM');
    expect(code).toBe(0);
    expect(ms).toBeLessThan(3_500);
    expect(server.logs().at(-1)).toMatchObject({ msg: 'shutdown complete', undeliveredSpans: expect.any(Number) });
    expect(server.logs().at(-1)!.undeliveredSpans as number).toBeGreaterThan(0);
  });

  it('when the backend refuses the credentials (401), then the cause is logged and the spans are not retried forever', async () => {
    receiver = await startOtlpReceiver();
    await receiver.setMode({ status: 401, body: 'invalid API key' });
    server = await startServer({
      env: { ...testEnv(inject('databaseUrl'), receiver.url), OTEL_BSP_SCHEDULE_DELAY: '100' },
    });
    await inParallel(20, 4, () => api(server!, 'GET', '/api/sessions'));
    const refused = await server.waitForLog(
      (line) => line.msg === 'the trace backend refused spans; they are dropped (check endpoint, headers and API key)',
    );
    expect(refused).toMatchObject({ status: 401 });
    // each of the 20 server spans is offered once; none comes back for another try
    const offered = () => receiver!.requests().reduce((sum, request) => sum + request.spanCount, 0);
    await receiver.waitForSpans(() => offered() >= 20);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(offered()).toBe(20);
  });

  it('when export is configured with JSON, gzip and headers, then the receiver gets exactly that, and the API key is never logged', async () => {
    receiver = await startOtlpReceiver();
    server = await startServer({
      env: {
        ...testEnv(inject('databaseUrl'), receiver.url),
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-honeycomb-team=hc-secret-key-123,x-tenant=acme',
      },
    });
    const response = await api(server, 'GET', '/api/sessions');
    await receiver.waitForSpan((span) => span.traceId === response.headers.get('x-trace-id'));
    const [first] = receiver.requests();
    expect(first).toMatchObject({
      contentType: expect.stringContaining('application/json'),
      encoding: 'gzip',
      headers: expect.objectContaining({ 'x-honeycomb-team': 'hc-secret-key-123', 'x-tenant': 'acme' }),
    });
    expect(server.output()).not.toContain('hc-secret-key-123');
  });

  it('when a client sends tokens in the query string, headers and cookies, then no span holds any of them', async () => {
    receiver = await startOtlpReceiver();
    server = await startServer({ env: testEnv(inject('databaseUrl'), receiver.url) });
    const token = await tokenFor(uniqueUser('query'));
    const secrets = [
      token,
      'query-token-value',
      'api-key-value-123',
      'oauth-code-xyz',
      'cookie-value-456',
      'AIzaSyA1234567890abcdefghijklmnopqrstuv',
    ];
    const response = await api(
      server,
      'GET',
      `/api/sessions?access_token=${token}&token=query-token-value&apiKey=api-key-value-123&code=oauth-code-xyz&q=${secrets[5]}&limit=5`,
      { token, headers: { cookie: `sid=cookie-value-456`, 'x-api-key': 'api-key-value-123' } },
    );
    expect(response.status).toBe(200);
    const root = await receiver.waitForSpan(
      (span) => span.traceId === response.headers.get('x-trace-id') && span.kind === 'SERVER',
    );
    expect(String(root.attributes['url.query'])).toMatch(
      /access_token=(REDACTED|\[REDACTED\])&token=(REDACTED|\[REDACTED\]).*limit=5/,
    );
    const exported = JSON.stringify(receiver.spans(), (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
    for (const secret of secrets) expect(exported).not.toContain(secret);
    for (const secret of secrets) expect(server.output()).not.toContain(secret);
  });
});
