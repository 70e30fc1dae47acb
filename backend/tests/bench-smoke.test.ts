import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBenchScript } from '../testing/bench-script';

/**
 * The benchmark in miniature, so it cannot rot: one short round of every configuration
 * through the real harness. No thresholds: timings on a shared machine are noise, and
 * the targets are judged in the benchmark's report.
 */
describe('npm run bench (smoke)', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'rab-bench-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('when the benchmark runs one short round, then it writes the table and the chart for all five configurations', async () => {
    const { code, output } = await runBenchScript(['bench/run.mts', '--smoke', '--out', out]);
    expect(code, output.slice(-3000)).toBe(0);

    const files = readdirSync(out);
    const report = files.find((file) => file.endsWith('.md'));
    expect(report, files.join(', ')).toBeDefined();
    const markdown = readFileSync(path.join(out, report!), 'utf8');
    for (const label of [
      'A · tracing off',
      'B · ours, 100%',
      'C · ours, 10%',
      'D · auto-instrumentations, 100%',
      'E · ours, 10%, metrics off',
    ])
      expect(markdown).toContain(`| ${label} |`);
    expect(markdown).toMatch(/\| B · ours, 100% \| \d+/);
    // every traced request holds its own spans: one bucket of three (server span, two SQL)
    expect(markdown).toMatch(/\| B · ours, 100% \| 3 spans × [\d,]+ \|/);
    expect(markdown).toContain('## Targets');
    expect(markdown).toMatch(/## Metrics\n\nWhat the metrics add per request/);
    const png = path.join(out, report!.replace(/\.md$/, '.png'));
    expect(existsSync(png)).toBe(true);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
  }, 240_000);
});
