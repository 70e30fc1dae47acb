import { readFileSync } from 'node:fs';

export interface Timed<T> {
  result: T;
  ms: number;
  at: number;
}

/** Starts `request` at a steady rate for `durationMs`, without waiting for answers to start the next one. */
export async function atRate<T>(
  ratePerSecond: number,
  durationMs: number,
  request: () => Promise<T>,
): Promise<Array<Timed<T>>> {
  const started = Date.now();
  const pending: Array<Promise<Timed<T>>> = [];
  const interval = 1000 / ratePerSecond;
  for (let i = 0; Date.now() - started < durationMs; i++) {
    const at = performance.now();
    pending.push(request().then((result) => ({ result, ms: performance.now() - at, at: Date.now() })));
    const next = started + (i + 1) * interval;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
  }
  return Promise.all(pending);
}

/** Runs `count` requests with at most `concurrency` in flight. */
export async function inParallel<T>(
  count: number,
  concurrency: number,
  request: (index: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await request(index);
      }
    }),
  );
  return results;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Resident set size of a process, in MiB (Linux). */
export function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}
