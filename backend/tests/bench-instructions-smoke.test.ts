import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBenchScript } from '../testing/bench-script';
import { hasBinary } from '../testing/prometheus';

const haveValgrind = hasBinary('valgrind') && hasBinary('callgrind_control');
if (!haveValgrind)
  console.warn(
    '\n⚠️  valgrind is not on PATH: the smoke test of `npm run bench:instructions` is SKIPPED (Debian package `valgrind`).\n',
  );

/**
 * `npm run bench:instructions` in miniature, so it cannot rot: one round of A and C under
 * callgrind with a few requests, and the breakdown that names V8's JIT code through the perf
 * map. No thresholds: the counts of 30 requests say nothing.
 */
describe.skipIf(!haveValgrind)('npm run bench:instructions (smoke)', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'rab-instructions-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('when the instruction count runs one short round, then it writes counts for A and C and names the telemetry code among the functions', async () => {
    const { code, output } = await runBenchScript([
      'bench/instructions.mts',
      '--smoke',
      '--no-build',
      '--only',
      'C',
      '--functions',
      '200',
      '--out',
      out,
    ]);
    expect(code, output.slice(-3000)).toBe(0);

    const report = readdirSync(out).find((file) => file.endsWith('.md'));
    expect(report).toBeDefined();
    const markdown = readFileSync(path.join(out, report!), 'utf8');
    // a count per configuration (millions of instructions per request; k of them JIT compilation, full GC,
    // other GC), then A/X in all, steady, and without full GC: A against itself is 1
    expect(markdown).toMatch(/\| A · tracing off \| \d+\.\d{3} \| \d+ \| \d+ \| \d+ \| 1\.000 \| 1\.000 \| 1\.000 \|/);
    expect(markdown).toMatch(
      /\| C · ours, 10% \| \d+\.\d{3} \| \d+ \| \d+ \| \d+ \| \d\.\d{3} \| \d\.\d{3} \| \d\.\d{3} \| ≥ 0\.95 \|/,
    );
    // JIT code named through the perf map: our HTTP server instrumentation runs in C only
    expect(markdown).toContain('## Where the instructions go');
    expect(markdown).toMatch(/\| app:telemetry\/http-server\/instrumentation \| 0\.0 \| \d+\.\d \|/);
  }, 300_000);
});
