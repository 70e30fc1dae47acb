/**
 * npm run bench:exemplars — what the exemplar wrapper adds to one histogram record: the SDK's
 * histogram alone, then through the wrapper, in an unsampled and in a sampled span (the active
 * context, as a request records). Rounds are interleaved; medians in ns per record.
 */
import { createRequire } from 'node:module';
import { median } from './lib/stats.mts';

const require = createRequire(import.meta.url);
const { context, trace } = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { MeterProvider, MetricReader, AggregationTemporality } = require('@opentelemetry/sdk-metrics');
const { ExemplarMeterProvider } = require('../backend/dist/telemetry/metrics/exemplar-provider.js');
const { ExemplarStore } = require('../backend/dist/telemetry/metrics/exemplars.js');

class Reader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  async onShutdown() {}
  async onForceFlush() {}
}

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const reader = new Reader();
const sdk = new MeterProvider({ readers: [reader] });
const store = new ExemplarStore();
const collect = store.reader({ fresh: true });
const wrapped = new ExemplarMeterProvider(sdk, store, 'trace_based');
const options = { unit: 's', advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] } };
const plain = sdk.getMeter('bench').createHistogram('plain', options);
const withExemplars = wrapped.getMeter('bench').createHistogram('wrapped', options);
const attributes = {
  'http.request.method': 'GET',
  'http.route': '/api/sessions/:sessionId',
  'http.response.status_code': 200,
};
const span = (sampled: boolean) =>
  trace.setSpan(
    context.active(),
    trace.wrapSpanContext({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: sampled ? 1 : 0 }),
  );
const unsampled = span(false);
const sampled = span(true);

const records = 200_000;
const run = (histogram: { record(value: number, attributes: object): void }) => {
  const started = process.hrtime.bigint();
  for (let i = 0; i < records; i++) histogram.record((i % 100) / 100, attributes);
  const ns = Number(process.hrtime.bigint() - started) / records;
  collect();
  return ns;
};
const cases = {
  'SDK histogram, unsampled span': () => context.with(unsampled, () => run(plain)),
  'wrapped, unsampled span': () => context.with(unsampled, () => run(withExemplars)),
  'SDK histogram, sampled span': () => context.with(sampled, () => run(plain)),
  'wrapped, sampled span': () => context.with(sampled, () => run(withExemplars)),
};
const results = Object.fromEntries(Object.keys(cases).map((name) => [name, [] as number[]]));
for (const measure of Object.values(cases)) measure();
for (let round = 0; round < 9; round++)
  for (const [name, measure] of Object.entries(cases)) results[name]!.push(measure());

console.log('| case | median ns/record | min | max |\n|---|---:|---:|---:|');
for (const [name, values] of Object.entries(results))
  console.log(
    `| ${name} | ${median(values).toFixed(0)} | ${Math.min(...values).toFixed(0)} | ${Math.max(...values).toFixed(0)} |`,
  );
const added = (kind: string) =>
  median(results[`wrapped, ${kind} span`]!) - median(results[`SDK histogram, ${kind} span`]!);
console.log(
  `\nthe wrapper adds ${added('unsampled').toFixed(0)} ns unsampled, ${added('sampled').toFixed(0)} ns sampled, per record`,
);
