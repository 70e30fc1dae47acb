/**
 * What the bench scripts (run, profile, soak) share about the processes they start and watch:
 * a timestamped progress line, a free port, a database, CPU and memory read from /proc.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** A progress line on stderr, so stdout stays the report. */
export function log(message: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** DATABASE_URL, or an embedded PostgreSQL under `dataDir` (needs backend/dist built). */
export async function database(dataDir: string): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {} };
  const { startEmbeddedPostgres } = require('../../backend/dist/dev/embedded-postgres.js');
  const { createLogger } = require('../../backend/dist/utils/logger.js');
  const embedded = await startEmbeddedPostgres({
    dataDir: path.join(dataDir, 'pg'),
    port: 0,
    logger: createLogger({ level: 'warn' }),
  });
  return { url: embedded.connectionString, stop: () => embedded.stop() };
}

/** CPU time (user + system) the process has used so far, in µs (Linux /proc, 100 ticks a second). */
export function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** Resident set size of a process, in MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}
