import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../src/dev/embedded-postgres';
import { createLogger } from '../src/utils/logger';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A database of this test run only, on DATABASE_URL's server or on an embedded one. */
    databaseUrl: string;
    /** REDIS_URL when the run has a Redis ('' otherwise: the Redis-backed tests are skipped, visibly). */
    redisUrl: string;
  }
}

const ROOT = path.resolve(__dirname, '../..');

/**
 * Builds the server (process-level tests run the compiled output, as `npm start` does)
 * and provides a fresh database: on DATABASE_URL's server when it is set, else on an
 * embedded PostgreSQL in a temporary folder.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });

  const cleanups: Array<() => Promise<void>> = [];
  let serverUrl = process.env.DATABASE_URL;
  if (serverUrl === undefined || serverUrl === '') {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'rab-test-pg-'));
    const embedded = await startEmbeddedPostgres({ dataDir, port: 0, logger: createLogger({ level: 'warn' }) });
    cleanups.push(async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    });
    serverUrl = embedded.connectionString;
  }

  const name = `rab_test_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  cleanups.unshift(async () => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
  });

  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  project.provide('databaseUrl', url.toString());
  project.provide('redisUrl', process.env.REDIS_URL ?? '');
  if (!process.env.REDIS_URL) {
    console.warn(
      '\n⚠️  REDIS_URL is not set: the tests that need Redis (BullMQ jobs, several instances) are SKIPPED. Set REDIS_URL=redis://127.0.0.1:6379 to run them (.ci/run does).\n',
    );
  }

  return async () => {
    for (const cleanup of cleanups) await cleanup().catch((error: unknown) => console.error('test teardown:', error));
  };
}
