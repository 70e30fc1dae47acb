/**
 * Cost of one log line, with and without an active span (the trace-correlation mixin),
 * written as the server writes them: pino, JSON, synchronously to a file descriptor
 * (/dev/null here, so the disk is not measured). Rounds are interleaved so machine
 * drift hits both cases alike.   npm run bench:log
 */
import { createRequire } from 'node:module';
import { openSync } from 'node:fs';

const require = createRequire(import.meta.url);
const { context, trace } = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { TracerProvider } = require('@opentelemetry/sdk-trace');
const pino = require('pino');
const { createLogger } = require('../backend/dist/utils/logger.js');
const { setRequestId } = require('../backend/dist/telemetry/request-id.js');

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const logger = createLogger({ level: 'info', destination: pino.destination({ fd: openSync('/dev/null', 'w'), sync: true }) });
const span = new TracerProvider().getTracer('bench').startSpan('bench');
const inSpan = setRequestId(trace.setSpan(context.active(), span), '0f8fad5b-d9cb-469f-a165-70867728950e');

const N = 50_000;
const ROUNDS = 7;
const line = { method: 'GET', route: '/api/sessions/:sessionId', status: 200, duration_ms: 1.25 };

function run(): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < N; i++) logger.info(line, 'request completed');
  return Number(process.hrtime.bigint() - started) / N;
}

const results: Record<'no span' | 'active span', number[]> = { 'no span': [], 'active span': [] };
run(); // warm-up
context.with(inSpan, run);
for (let round = 0; round < ROUNDS; round++) {
  results['no span'].push(run());
  results['active span'].push(context.with(inSpan, run));
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(`| case | median ns/line | min | max |\n|---|---:|---:|---:|`);
for (const [name, values] of Object.entries(results)) {
  console.log(`| ${name} | ${median(values).toFixed(0)} | ${Math.min(...values).toFixed(0)} | ${Math.max(...values).toFixed(0)} |`);
}
const added = median(results['active span']) - median(results['no span']);
console.log(`\ntrace correlation adds ${added.toFixed(0)} ns per line; a whole line costs ${(median(results['active span']) / 1000).toFixed(2)} µs (budget: 1 ms)`);
