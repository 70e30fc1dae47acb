/**
 * Cost of one log line, with and without an active span (the trace-correlation mixin),
 * written as the server writes them: pino, JSON, synchronously to a file descriptor
 * (/dev/null, so the disk is not measured). Rounds are interleaved.
 */
import { openSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface LogLineCost {
  noSpanNs: number[];
  activeSpanNs: number[];
}

export function measureLogLine({ lines = 50_000, rounds = 7 } = {}): LogLineCost {
  const { context, trace } = require('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
  const { TracerProvider } = require('@opentelemetry/sdk-trace');
  const pino = require('pino');
  const { createLogger } = require('../../backend/dist/utils/logger.js');
  const { setRequestId } = require('../../backend/dist/telemetry/request-id.js');

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const logger = createLogger({
    level: 'info',
    destination: pino.destination({ fd: openSync('/dev/null', 'w'), sync: true }),
  });
  const span = new TracerProvider().getTracer('bench').startSpan('bench');
  const inSpan = setRequestId(trace.setSpan(context.active(), span), '0f8fad5b-d9cb-469f-a165-70867728950e');
  const line = { method: 'GET', route: '/api/sessions/:sessionId', status: 200, duration_ms: 1.25 };
  const run = () => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < lines; i++) logger.info(line, 'request completed');
    return Number(process.hrtime.bigint() - started) / lines;
  };
  run();
  context.with(inSpan, run);
  const cost: LogLineCost = { noSpanNs: [], activeSpanNs: [] };
  for (let round = 0; round < rounds; round++) {
    cost.noSpanNs.push(run());
    cost.activeSpanNs.push(context.with(inSpan, run));
  }
  return cost;
}
