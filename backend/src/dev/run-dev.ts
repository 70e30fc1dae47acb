import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { parseViewerConfig } from './trace-viewer/config';

/**
 * `npm run dev`: the trace viewer and the backend together, their output interleaved
 * on this terminal. The children run in process groups of their own so that Ctrl-C
 * reaches them once, through this script (the backend exits at once on a second
 * signal); a second Ctrl-C is passed on too, to force them. When either child ends,
 * the other is stopped and this script exits with the first non-zero code.
 */

const ROOT = path.resolve(__dirname, '../../..');
const CHILDREN = [
  { name: 'trace viewer', entry: 'backend/dist-dev/dev/trace-viewer/main.js' },
  { name: 'backend', entry: 'backend/dist/server.js' },
];

function main(): void {
  try {
    parseViewerConfig(process.env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }

  const running = new Set<ChildProcess>();
  let exitCode = 0;
  let stopping = false;
  const stopAll = (signal: NodeJS.Signals) => {
    stopping = true;
    for (const child of running) child.kill(signal);
  };
  // what a child that was asked to stop exits with (the backend's 130/143 after a signal)
  const stoppedCleanly = (code: number | null, signal: NodeJS.Signals | null) =>
    code === 0 || (stopping && (code === 130 || code === 143 || signal === 'SIGINT' || signal === 'SIGTERM'));

  for (const { name, entry } of CHILDREN) {
    const child = spawn(process.execPath, [path.join(ROOT, entry)], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true,
    });
    running.add(child);
    child.once('exit', (code, signal) => {
      running.delete(child);
      const failed = stoppedCleanly(code, signal) ? 0 : (code ?? 1);
      if (failed !== 0) process.stderr.write(`${name} exited (${signal ?? `code ${String(code)}`})\n`);
      if (exitCode === 0) exitCode = failed;
      if (running.size > 0) stopAll('SIGTERM');
      else process.exit(exitCode);
    });
  }

  process.on('SIGINT', () => stopAll('SIGINT'));
  process.on('SIGTERM', () => stopAll('SIGTERM'));
  // should this script die some other way, take the children with it
  process.on('exit', () => stopAll('SIGKILL'));
}

main();
