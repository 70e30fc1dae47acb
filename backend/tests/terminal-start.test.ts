import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../testing/otlp-receiver';
import { api, startServer, testEnv, tokenFor, uniqueUser, type ServerProcess } from '../testing/server-process';

describe('a developer runs `npm start` in a terminal and presses Ctrl-C', () => {
  let receiver: OtlpReceiver;
  let server: ServerProcess;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // npm in front of node, in a process group of its own, as a terminal starts it
    server = await startServer({
      env: { ...testEnv(inject('databaseUrl'), receiver.url), OTEL_BSP_SCHEDULE_DELAY: '60000' },
      command: { file: 'npm', args: ['start', '--silent'] },
      detached: true,
      readyTimeoutMs: 90_000,
    });
  });

  afterAll(async () => {
    if (server?.child.exitCode === null) process.kill(-server.child.pid!, 'SIGKILL');
    await receiver?.close();
  });

  it('when SIGINT reaches the whole process group, then it shuts down gracefully, exits 0 and delivers its spans', async () => {
    const token = await tokenFor(uniqueUser());
    const response = await api(server, 'GET', '/api/sessions', { token });
    const traceId = response.headers.get('x-trace-id')!;
    // the batch delay is a minute: the span leaves only with the shutdown flush
    expect(receiver.trace(traceId)).toEqual([]);

    process.kill(-server.child.pid!, 'SIGINT');
    // npm forwards the terminal's SIGINT to its child once more a few ms later; two
    // signals that close together may merge in the kernel, so the repeat is sent here
    // explicitly, as npm would, to the node process (its pid is on every log line)
    await new Promise((resolve) => setTimeout(resolve, 3));
    process.kill(server.logs()[0]!.pid as number, 'SIGINT');
    const { code, signal } = await server.exited();

    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(server.logs().find((line) => line.msg === 'shutdown complete')).toMatchObject({ exitCode: 0 });
    expect(server.logs().some((line) => line.msg === 'second signal received: exiting now')).toBe(false);
    expect(receiver.trace(traceId).map((span) => span.kind)).toContain('SERVER');
  });
});
