/** npm run bench:log — the cost of one log line, with and without an active span. */
import { measureLogLine } from './lib/log-line.mts';
import { median } from './lib/stats.mts';

const { noSpanNs, activeSpanNs } = measureLogLine();
console.log(`| case | median ns/line | min | max |\n|---|---:|---:|---:|`);
for (const [name, values] of [
  ['no span', noSpanNs],
  ['active span', activeSpanNs],
] as const) {
  console.log(
    `| ${name} | ${median(values).toFixed(0)} | ${Math.min(...values).toFixed(0)} | ${Math.max(...values).toFixed(0)} |`,
  );
}
console.log(
  `\ntrace correlation adds ${(median(activeSpanNs) - median(noSpanNs)).toFixed(0)} ns per line; a whole line costs ${(median(activeSpanNs) / 1000).toFixed(2)} µs (budget: 1 ms)`,
);
