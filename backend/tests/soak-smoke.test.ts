import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBenchScript } from '../testing/bench-script';

/**
 * `npm run soak` in 30 seconds, so it cannot rot: every collector phase is visited, clients walk
 * away mid-reply, the server exits cleanly and the span accounting adds up. No thresholds: the
 * figures of a 30-second run on a shared machine say nothing.
 */
describe('npm run soak (30-second smoke)', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'rab-soak-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('when the soak runs through every collector phase, then it writes its report and chart, the server exits 0 and every span is accounted for', async () => {
    const { code, output } = await runBenchScript(['bench/soak.mts', '--duration', '30', '--out', out]);
    expect(code, output.slice(-3000)).toBe(0);

    const report = readdirSync(out).find((file) => file.endsWith('.md'));
    expect(report).toBeDefined();
    const markdown = readFileSync(path.join(out, report!), 'utf8');
    for (const mode of ['ok', '503', 'refused', 'hung'])
      expect(markdown).toMatch(new RegExp(`\\| \\d \\| ${mode} \\| \\d+`));
    expect(markdown).toContain('| produced = exported + dropped + undelivered | yes |');
    expect(markdown).toMatch(/\| exit \| shutdown complete, code 0 \|/);
    expect(
      readFileSync(path.join(out, report!.replace(/\.md$/, '.png')))
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
  }, 240_000);
});
