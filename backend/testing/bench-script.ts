import { spawn } from 'node:child_process';
import { inject } from 'vitest';
import { ROOT } from './server-process';

/**
 * Runs one of the bench scripts (`bench/*.mts`) as `npm run bench…` would, against the
 * suite's database, and answers its exit code and everything it printed (stdout and stderr,
 * interleaved): the smoke tests of the benchmarks, so they cannot rot.
 */
export async function runBenchScript(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: inject('databaseUrl') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}
