import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { inParallel } from '../testing/load';
import { startOtlpReceiver, type OtlpReceiver } from '../testing/otlp-receiver';
import {
  ROOT,
  START_ARGS,
  api,
  startServer,
  testEnv,
  tokenFor,
  uniqueUser,
  type ServerProcess,
} from '../testing/server-process';

/** A trace backend that accepts connections and never answers. */
async function startSilentBackend(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('production configuration, the export budget and the trusted edge', () => {
  let receiver: OtlpReceiver;
  let silent: Awaited<ReturnType<typeof startSilentBackend>>;
  // export against a backend that never answers, with a small queue and outage buffer
  let budget: ServerProcess;
  // NODE_ENV=production behind a trusted gateway
  let production: ServerProcess;

  beforeAll(async () => {
    [receiver, silent] = await Promise.all([startOtlpReceiver(), startSilentBackend()]);
    const base = testEnv(inject('databaseUrl'), receiver.url);
    [budget, production] = await Promise.all([
      startServer({
        env: {
          ...base,
          OTEL_EXPORTER_OTLP_ENDPOINT: silent.url,
          OTEL_EXPORTER_OTLP_TIMEOUT: '60000',
          OTEL_BSP_EXPORT_TIMEOUT: '500',
          OTEL_BSP_MAX_QUEUE_SIZE: '10',
          OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '512',
          TRACE_EXPORT_BUFFER_SPANS: '100',
        },
      }),
      startServer({
        env: {
          ...base,
          NODE_ENV: 'production',
          GEMINI_API_KEY: 'test-key-not-secret',
          GEMINI_BASE_URL: 'http://127.0.0.1:9',
          TRACE_TRUSTED_EDGE: 'true',
          TRACE_TRUSTED_SAMPLES_PER_SECOND: '0',
        },
      }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([budget?.stop(), production?.stop()]);
    await Promise.all([receiver?.close(), silent?.close()]);
  });

  it('when the batch size exceeds the queue size, then it is lowered to the queue size with a warning, and the start line states the memory budget', () => {
    expect(budget.logs().find((line) => line.variable === 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE')).toMatchObject({
      level: 'warn',
      msg: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE=512 is larger than OTEL_BSP_MAX_QUEUE_SIZE=10; using 10',
    });
    expect(budget.logs().find((line) => line.msg === 'tracing started')).toMatchObject({ memoryBudgetSpans: 110 });
  });

  it('when one export attempt outlasts OTEL_BSP_EXPORT_TIMEOUT, then it counts as failed and spans beyond the budget are dropped and counted', async () => {
    const token = await tokenFor(uniqueUser());
    await inParallel(100, 4, () => api(budget, 'GET', '/api/sessions', { token }));
    const failing = await budget.waitForLog(
      (line) => line.msg === 'span export failing; spans are kept and retried',
      10_000,
    );
    expect(String(failing.cause)).toContain('OTEL_BSP_EXPORT_TIMEOUT');
    const full = await budget.waitForLog((line) => line.msg === 'span buffer full: oldest spans dropped', 15_000);
    expect(full).toMatchObject({ maxBufferedSpans: 100 });
    expect(full.bufferedSpans as number).toBeLessThanOrEqual(100);
  });

  it('when NODE_ENV=production chooses the sampler, then the start line says so', () => {
    const started = production.logs().find((line) => line.msg.startsWith('tracing started'));
    expect(started).toMatchObject({
      sampler: 'parentbased_traceidratio',
      ratio: 0.1,
      samplerDefaultedBy: 'NODE_ENV=production',
      trustedEdge: true,
    });
    expect(started?.msg).toMatch(/NODE_ENV=production defaults apply: sampler parentbased_traceidratio, ratio 0.1/);
  });

  it('when the edge is trusted, then every sampled traceparent is followed even with no trusted-samples budget', async () => {
    const token = await tokenFor(uniqueUser());
    const traceIds = Array.from({ length: 5 }, (_, index) => `${index + 1}`.repeat(32));
    for (const traceId of traceIds) {
      await api(production, 'GET', '/api/sessions', {
        token,
        headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      });
    }
    for (const traceId of traceIds) {
      const span = await receiver.waitForSpan(
        (candidate) => candidate.traceId === traceId && candidate.kind === 'SERVER',
      );
      expect(span.parentSpanId).toBe('00f067aa0ba902b7');
    }
  });

  it('when NODE_ENV=production starts with several problems, then one start names them all and exits 1', async () => {
    const child = spawn(process.execPath, START_ARGS, {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        JWT_SECRET: 'too-short',
        OTEL_TRACES_SAMPLER: 'xray',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(stderr).toContain('JWT_SECRET: must be at least 32 characters long');
    expect(stderr).toContain('DATABASE_URL: is required when NODE_ENV=production');
    expect(stderr).toContain('GEMINI_API_KEY: is required when NODE_ENV=production');
    // an OTEL_* problem is a warning, never one of the reasons to stop
    expect(stderr).not.toContain('OTEL_TRACES_SAMPLER');
  });
});
