import { createRequire } from 'node:module';
import { median } from './stats.mts';
import type { ChartData } from './report.mts';

const require = createRequire(import.meta.url);

const COLORS: Record<string, string> = { A: '#7f8c8d', B: '#2e86de', C: '#10ac84', D: '#ee5253', E: '#8e44ad' };

/** Two bar charts side by side: throughput vs A (with the 0.90/0.95 targets) and p99 latency; whiskers are min–max. */
export async function drawChart(data: ChartData, subtitle: string): Promise<Buffer> {
  const { createCanvas } = require('@napi-rs/canvas');
  const width = 1100;
  const height = 520;
  const canvas = createCanvas(width, height);
  const g = canvas.getContext('2d');
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, width, height);
  g.fillStyle = '#222';
  g.font = 'bold 20px sans-serif';
  g.fillText('Tracing overhead: GET /api/sessions/:id', 30, 34);
  g.font = '13px sans-serif';
  g.fillStyle = '#555';
  g.fillText(subtitle, 30, 56);

  const panel = (
    x0: number,
    title: string,
    values: (c: ChartData['configs'][number]) => number[],
    max: number,
    format: (v: number) => string,
    targets: number[],
  ) => {
    const top = 90;
    const bottom = height - 70;
    const left = x0 + 50;
    const right = x0 + 500;
    g.fillStyle = '#222';
    g.font = 'bold 15px sans-serif';
    g.fillText(title, x0 + 50, top - 12);
    g.strokeStyle = '#ccc';
    g.beginPath();
    g.moveTo(left, top);
    g.lineTo(left, bottom);
    g.lineTo(right, bottom);
    g.stroke();
    const y = (v: number) => bottom - (Math.min(v, max) / max) * (bottom - top);
    g.font = '12px sans-serif';
    g.fillStyle = '#777';
    for (let i = 0; i <= 4; i++) {
      const v = (max * i) / 4;
      g.fillText(format(v), x0, y(v) + 4);
    }
    g.setLineDash([6, 4]);
    g.strokeStyle = '#e67e22';
    for (const t of targets) {
      g.beginPath();
      g.moveTo(left, y(t));
      g.lineTo(right, y(t));
      g.stroke();
      g.fillStyle = '#e67e22';
      g.fillText(format(t), right + 4, y(t) + 4);
    }
    g.setLineDash([]);
    const slot = (right - left) / data.configs.length;
    data.configs.forEach((config, i) => {
      const vs = values(config).filter((v) => Number.isFinite(v));
      if (vs.length === 0) return;
      const mid = median(vs);
      const x = left + i * slot + slot * 0.2;
      const w = slot * 0.6;
      g.fillStyle = COLORS[config.name] ?? '#999';
      g.fillRect(x, y(mid), w, bottom - y(mid));
      g.strokeStyle = '#222';
      g.beginPath();
      g.moveTo(x + w / 2, y(Math.max(...vs)));
      g.lineTo(x + w / 2, y(Math.min(...vs)));
      g.stroke();
      g.fillStyle = '#222';
      g.font = 'bold 13px sans-serif';
      g.fillText(format(mid), x, y(mid) - 6);
      g.font = '12px sans-serif';
      g.fillText(config.label.split(' · ')[0]!, x + w / 2 - 4, bottom + 18);
      g.fillText(
        (config.label.split(' · ')[1] ?? '').replace('auto-instrumentations', 'auto-instr.'),
        x - 6,
        bottom + 34,
      );
    });
  };

  panel(
    20,
    'Throughput relative to tracing off (higher is better)',
    (c) => c.ratio,
    1.1,
    (v) => v.toFixed(2),
    [0.9, 0.95],
  );
  const p99Max = Math.max(...data.configs.flatMap((c) => c.p99Us).filter(Number.isFinite), 1) * 1.15;
  panel(
    560,
    'p99 latency at a fixed rate, µs (lower is better)',
    (c) => c.p99Us,
    p99Max,
    (v) => v.toFixed(0),
    [],
  );
  return canvas.toBuffer('image/png');
}
