import { describe, expect, inject, it } from 'vitest';
import { inParallel } from '../testing/load';
import { startOtlpReceiver, type ReceiverMode } from '../testing/otlp-receiver';
import { api, startServer, testEnv, tokenFor, uniqueUser } from '../testing/server-process';

/**
 * Every span is exported or counted: sent = exported + dropped (buffer full) + queue full +
 * rejected + undelivered, exactly, whatever the collector does. The batch queue and the outage
 * buffer are kept small so that every loss path is taken under a few hundred requests.
 */
const REQUESTS = 400;
const SHUTDOWN_TIMEOUT_MS = 8_000;

const MODES: Array<[string, ReceiverMode]> = [
  ['answers', 'ok'],
  ['answers 503', 'unavailable'],
  ['refuses connections', 'refuse'],
  ['accepts and never answers', 'hang'],
  ['refuses the credentials (401)', { status: 401 }],
];

describe('telemetry accounting: every span exported or counted, in every fault mode', () => {
  it.each(MODES)(
    'when the collector %s, then the counts add up to the spans produced, and the exit comes well before the deadline',
    async (_label, mode) => {
      const receiver = await startOtlpReceiver();
      const server = await startServer({
        env: {
          ...testEnv(inject('databaseUrl'), receiver.url),
          OTEL_METRICS_EXPORTER: 'none',
          OTEL_BSP_MAX_QUEUE_SIZE: '64',
          OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '32',
          TRACE_EXPORT_BUFFER_SPANS: '100',
          OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
          OTEL_BSP_EXPORT_TIMEOUT: '1500',
          SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
        },
      });
      try {
        const token = await tokenFor(uniqueUser());
        await receiver.setMode(mode);
        // GET /api/sessions: a server span and one SQL span each
        const responses = await inParallel(REQUESTS, 16, () => api(server, 'GET', '/api/sessions', { token }));
        expect(responses.every((response) => response.status === 200)).toBe(true);

        const { code, ms } = await server.stop('SIGTERM');
        expect(code).toBe(0);
        // the telemetry step gets a bounded share: well before the deadline, whatever the collector does
        expect(ms).toBeLessThan(SHUTDOWN_TIMEOUT_MS * 0.8);
        const last = server.logs().at(-1)!;
        expect(last.msg).toBe('shutdown complete');
        const count = (key: string) => Number(last[key] ?? Number.NaN);
        expect(count('sentSpans')).toBe(REQUESTS * 2);
        expect(
          count('exportedSpans') +
            count('droppedSpans') +
            count('queueFullSpans') +
            count('rejectedSpans') +
            count('undeliveredSpans'),
        ).toBe(count('sentSpans'));
        // what the collector says it took is what we say was exported
        expect(count('exportedSpans')).toBe(receiver.spans().length);
        if (mode !== 'ok') expect(count('exportedSpans')).toBe(0);
        if (typeof mode === 'object') expect(count('rejectedSpans')).toBeGreaterThan(0);
        // one line per outage or refusal, not one per batch
        const said = (message: string) => server.logs().filter((line) => line.msg.startsWith(message)).length;
        // (an outage that begins just before the exit may end in the summary line alone)
        expect(said('span export failing')).toBeLessThanOrEqual(mode === 'ok' || typeof mode === 'object' ? 0 : 1);
        expect(said('the trace backend refused spans')).toBe(typeof mode === 'object' ? 1 : 0);
      } finally {
        server.child.kill('SIGKILL');
        await receiver.close();
      }
    },
  );
});
