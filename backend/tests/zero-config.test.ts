import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectChat } from '../testing/chat-client';
import { startOtlpReceiver, type OtlpReceiver } from '../testing/otlp-receiver';
import { ROOT, api, startServer, type ServerProcess } from '../testing/server-process';

/**
 * `npm start` with no configuration: the embedded PostgreSQL, the generated development
 * secret, `npm run token`, the offline Gemini stand-in, and export to the default
 * endpoint (http://localhost:4318, where this test listens when the port is free). Only
 * PORT=0 (the suite runs servers in parallel) and DATA_DIR (a fresh folder instead of the
 * checkout's .data) are set.
 */
describe('zero-config start (npm start, embedded PostgreSQL, Gemini stand-in)', () => {
  let dataDir: string;
  let server: ServerProcess | undefined;
  let receiver: OtlpReceiver | undefined;

  afterAll(async () => {
    server?.child.kill('SIGKILL');
    await receiver?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('when started with npm start and no environment, then a new user can call the API and chat, replies stream and are stored, the trace is exported, and SIGTERM exits 0', async () => {
    receiver = await startOtlpReceiver({ port: 4318 }).catch(() => undefined);
    if (receiver === undefined)
      console.warn('port 4318 is taken: the zero-config test cannot check the default export target');
    dataDir = await mkdtemp(path.join(tmpdir(), 'rab-zero-config-'));
    server = await startServer({
      env: { PORT: '0', DATA_DIR: dataDir },
      command: { file: 'npm', args: ['start', '--silent'] },
      readyTimeoutMs: 90_000,
    });
    const logs = () => server!.logs();
    expect(logs().some((line) => line.msg === 'embedded PostgreSQL started (set DATABASE_URL to use your own)')).toBe(
      true,
    );
    expect(
      logs().some((line) =>
        String(line.msg).startsWith('GEMINI_API_KEY is not set: replies come from the offline Gemini stand-in'),
      ),
    ).toBe(true);

    const token = execFileSync('npm', ['run', '--silent', 'token', '--', 'new-user'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir },
      encoding: 'utf8',
    }).trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const created = await api(server, 'POST', '/api/sessions', {
      token,
      body: { title: 'First project', budgetCents: 1_500_000 },
    });
    expect(created.status).toBe(201);

    const chat = await connectChat(server.url, { token });
    expect((await chat.send({ sessionId: created.body.id, content: 'What would a 10 m2 bathroom cost?' })).ok).toBe(
      true,
    );
    const reply = await chat.nextReply();
    chat.close();
    expect(reply.message?.content).toMatch(/10 m² bathroom .* about €\d/);
    expect(reply.chunks.length).toBeGreaterThan(5);
    const stored = await api(server, 'GET', `/api/sessions/${created.body.id}`, { token });
    expect(stored.body.messages.map((message: { role: string }) => message.role)).toEqual(['user', 'assistant']);
    expect(stored.body.messages[1].outputTokens).toBeGreaterThan(0);

    // a background plan, in-process without Redis
    const planner = await connectChat(server.url, { token });
    const ready = new Promise<{ planId: string }>((resolve) => planner.socket.once('plan:ready', resolve));
    expect((await api(server, 'POST', `/api/sessions/${created.body.id}/plan`, { token })).status).toBe(202);
    const { planId } = await ready;
    planner.close();
    const plan = await api(server, 'GET', `/api/sessions/${created.body.id}/plan`, { token });
    expect(plan.body.plan).toMatchObject({
      id: planId,
      content: expect.stringMatching(/^Renovation plan for "First project"/),
    });

    const postmasterPid = path.join(dataDir, 'postgres', 'postmaster.pid');
    expect(existsSync(postmasterPid)).toBe(true);
    const { code } = await server.stop('SIGTERM');
    expect(code).toBe(0);
    expect(existsSync(postmasterPid)).toBe(false);

    if (receiver !== undefined) {
      const names = new Set(receiver.spans().map((span) => span.name));
      for (const name of [
        'POST /api/sessions',
        'socket.io chat:user_message',
        'invoke_agent renovation-assistant',
        'execute_tool estimate_renovation_cost',
        'chat gemini-2.5-flash',
        'process renovation-plans',
        'socket.io emit plan:ready',
      ]) {
        expect(names, name).toContain(name);
      }
      // the stand-in itself is not traced: its requests are Gemini's side, not ours
      expect([...names].filter((name) => name.includes('generateContent') && !name.startsWith('POST'))).toEqual([]);
      expect(
        receiver
          .spans()
          .filter((span) => span.kind === 'SERVER' && String(span.attributes['url.path'] ?? '').startsWith('/v1beta')),
      ).toEqual([]);
    }
  });

  it('when nothing listens on the OTLP endpoint, then that is said at start and the lost spans are counted at exit, without waiting', async () => {
    if (receiver !== undefined) await receiver.close();
    receiver = undefined;
    const dir = await mkdtemp(path.join(tmpdir(), 'rab-zero-config-'));
    try {
      // port 1 on loopback: refused on any machine, whatever else listens on 4318 meanwhile
      const quiet = await startServer({
        env: { PORT: '0', DATA_DIR: dir, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' },
        readyTimeoutMs: 90_000,
      });
      await api(quiet, 'GET', '/api/sessions');
      const { code, ms } = await quiet.stop('SIGTERM');
      expect(code).toBe(0);
      // the product's own bound: the default shutdown deadline (a refused target is not waited for)
      expect(ms).toBeLessThan(10_000);
      expect(
        quiet.logs().some((line) => String(line.msg).startsWith('nothing accepts OTLP at the trace endpoint')),
      ).toBe(true);
      expect(quiet.logs().find((line) => line.msg === 'telemetry export stopped with spans undelivered')).toMatchObject(
        { undeliveredSpans: expect.any(Number) },
      );
      expect(quiet.logs().at(-1)).toMatchObject({
        msg: 'shutdown complete',
        undeliveredSpans: expect.any(Number),
        exitCode: 0,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
