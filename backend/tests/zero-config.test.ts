import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, api, startServer, type ServerProcess } from './helpers/server-process';

/**
 * `npm start` with no configuration: the embedded PostgreSQL, the generated development
 * secret and `npm run token`. Only PORT=0 (the suite runs servers in parallel) and
 * DATA_DIR (a fresh folder instead of the checkout's .data) are set.
 */
describe('zero-config start (npm start, embedded PostgreSQL)', () => {
  let dataDir: string;
  let server: ServerProcess | undefined;

  afterAll(async () => {
    server?.child.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('when started with npm start and no DATABASE_URL or JWT_SECRET, then it serves the API on an embedded PostgreSQL and exits 0 on SIGTERM', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'rab-zero-config-'));
    const env = { PORT: '0', DATA_DIR: dataDir };
    server = await startServer({ env, command: { file: 'npm', args: ['start', '--silent'] }, readyTimeoutMs: 90_000 });
    expect(server.logs().some((line) => line.msg === 'embedded PostgreSQL started (set DATABASE_URL to use your own)')).toBe(true);

    const token = execFileSync('npm', ['run', '--silent', 'token', '--', 'new-user'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir },
      encoding: 'utf8',
    }).trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const created = await api(server, 'POST', '/api/sessions', { token, body: { title: 'First project' } });
    expect(created.status).toBe(201);
    const listed = await api(server, 'GET', '/api/sessions', { token });
    expect(listed.body.sessions.map((session: { id: string }) => session.id)).toEqual([created.body.id]);

    const postmasterPid = path.join(dataDir, 'postgres', 'postmaster.pid');
    expect(existsSync(postmasterPid)).toBe(true);
    const { code } = await server.stop('SIGTERM');
    expect(code).toBe(0);
    // the embedded cluster was stopped, not orphaned
    expect(existsSync(postmasterPid)).toBe(false);
    // no collector on localhost:4318 here: explained at start, counted at exit, not waited for
    const logs = server.logs();
    expect(logs.some((line) => String(line.msg).startsWith('nothing accepts OTLP at the trace endpoint'))).toBe(true);
    expect(logs.find((line) => line.msg === 'spans not exported: the trace backend was unreachable')).toMatchObject({
      lostSpans: expect.any(Number),
    });
  });
});
