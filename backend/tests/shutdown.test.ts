import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { inParallel } from '../testing/load';
import { startOtlpReceiver, type OtlpReceiver } from '../testing/otlp-receiver';
import { api, startServer, testEnv, tokenFor, uniqueUser, type ServerProcess } from '../testing/server-process';

/**
 * Requests are held in flight by a table lock the test owns, so "in flight when SIGTERM
 * arrives" is a fact rather than a race: the server logs "request started" (debug) for
 * each, and the lock is released only after the signal.
 */
async function holdSessionsTable(databaseUrl: string): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE renovation_sessions IN ACCESS EXCLUSIVE MODE');
  return {
    async release() {
      await client.query('COMMIT');
      await client.end();
    },
  };
}

describe('graceful shutdown', () => {
  let receiver: OtlpReceiver | undefined;
  let server: ServerProcess | undefined;

  afterEach(async () => {
    server?.child.kill('SIGKILL');
    await receiver?.close();
  });

  it('when SIGTERM arrives with 100 requests in flight, then all are answered, the process exits 0 within the deadline and all 100 root spans reach the receiver', async () => {
    const databaseUrl = inject('databaseUrl');
    receiver = await startOtlpReceiver();
    server = await startServer({
      env: {
        ...testEnv(databaseUrl, receiver.url),
        LOG_LEVEL: 'debug',
        OTEL_BSP_SCHEDULE_DELAY: '60000',
        SHUTDOWN_TIMEOUT_MS: '10000',
      },
    });
    const token = await tokenFor(uniqueUser());
    const { body: session } = await api(server, 'POST', '/api/sessions', { token, body: { title: 'Basement' } });

    const lock = await holdSessionsTable(databaseUrl);
    const responses = Array.from({ length: 100 }, () => api(server!, 'GET', `/api/sessions/${session.id}`, { token }));
    await expect
      .poll(
        () =>
          server!.logs().filter((line) => line.msg === 'request started' && line.path === `/api/sessions/${session.id}`)
            .length,
        {
          timeout: 20_000,
        },
      )
      .toBe(100);

    const exit = server.stop('SIGTERM');
    await server.waitForLog((line) => line.msg === 'shutting down');
    expect(receiver.spans().filter((span) => span.kind === 'SERVER')).toEqual([]); // only the shutdown flush can deliver
    await lock.release();

    const answered = await Promise.all(responses);
    const { code, ms } = await exit;
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
    expect(answered.map((response) => response.status)).toEqual(Array(100).fill(200));

    const traceIds = new Set(answered.map((response) => response.headers.get('x-trace-id')));
    expect(traceIds.size).toBe(100);
    const roots = receiver.spans().filter((span) => span.kind === 'SERVER' && traceIds.has(span.traceId));
    expect(roots).toHaveLength(100);
    expect(new Set(roots.map((span) => span.traceId)).size).toBe(100);
    expect(server.logs().at(-1)).toMatchObject({ msg: 'shutdown complete', exitCode: 0, failedSteps: 0 });
  });

  it('when a second signal arrives well into shutdown (not a repeat of the first), then the process exits at once', async () => {
    const databaseUrl = inject('databaseUrl');
    server = await startServer({ env: { ...testEnv(databaseUrl), LOG_LEVEL: 'debug', SHUTDOWN_TIMEOUT_MS: '30000' } });
    const token = await tokenFor(uniqueUser());
    const { body: session } = await api(server, 'POST', '/api/sessions', { token, body: { title: 'Garage' } });
    const lock = await holdSessionsTable(databaseUrl);
    try {
      const pending = api(server, 'GET', `/api/sessions/${session.id}`, { token }).catch((error: unknown) => error);
      await server.waitForLog((line) => line.msg === 'request started' && line.path === `/api/sessions/${session.id}`);
      server.child.kill('SIGTERM');
      await server.waitForLog((line) => line.msg === 'shutting down');
      // within a second it would be the same request repeated (npm, process-group kills)
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      const { code, ms } = await server.stop('SIGTERM');
      expect(code).toBe(143);
      expect(ms).toBeLessThan(2_000);
      expect(server.logs().some((line) => line.msg === 'second signal received: exiting now')).toBe(true);
      await pending;
    } finally {
      await lock.release();
    }
  });

  it('when the collector refuses connections while an export is in flight, then SIGTERM does not wait for it: it counts what was not delivered and exits', async () => {
    receiver = await startOtlpReceiver();
    // a long deadline: waiting on a refused collector would use nearly all of it
    server = await startServer({
      env: { ...testEnv(inject('databaseUrl'), receiver.url), SHUTDOWN_TIMEOUT_MS: '60000' },
    });
    const token = await tokenFor(uniqueUser());
    const { body: session } = await api(server, 'POST', '/api/sessions', { token, body: { title: 'Loft' } });
    // reachable at start (so no outage is known yet), then refusing while spans queue
    await receiver.setMode('refuse');
    await inParallel(300, 16, () => api(server!, 'GET', `/api/sessions/${session.id}`, { token }));

    const { code, ms } = await server.stop('SIGTERM');
    expect(code).toBe(0);
    expect(ms).toBeLessThan(30_000);
    const stopped = server.logs().find((line) => line.msg === 'telemetry export stopped with spans undelivered');
    expect(stopped).toMatchObject({ undeliveredSpans: expect.any(Number) });
    expect(Number(stopped!.undeliveredSpans)).toBeGreaterThanOrEqual(300 * 3);
    expect(server.logs().at(-1)).toMatchObject({
      msg: 'shutdown complete',
      exitCode: 0,
      undeliveredSpans: stopped!.undeliveredSpans,
    });
  });
});
