import { context, trace, type Context } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger, type LoggerOptions as PinoOptions } from 'pino';
import { toSafeError } from '../errors/safe-error';
import { getRequestId } from '../telemetry/request-id';

export type { Logger } from 'pino';

/**
 * Trace correlation for every log line: written while a span is active, a line
 * carries `trace_id`, `span_id` and `trace_flags` (the names the OpenTelemetry log
 * data model and Grafana/Datadog/Honeycomb log-trace links expect) and the request id.
 * Outside any span it adds nothing, so no line carries an empty id. A field the caller
 * passes wins over the mixin (pino merges the call's object last).
 */
export function traceContextMixin(ctx: Context = context.active()): Record<string, string> {
  const fields: Record<string, string> = {};
  const spanContext = trace.getSpan(ctx)?.spanContext();
  if (spanContext !== undefined && trace.isSpanContextValid(spanContext)) {
    fields.trace_id = spanContext.traceId;
    fields.span_id = spanContext.spanId;
    fields.trace_flags = spanContext.traceFlags < 16 ? `0${spanContext.traceFlags.toString(16)}` : spanContext.traceFlags.toString(16);
  }
  const requestId = getRequestId(ctx);
  if (requestId !== undefined) fields.request_id = requestId;
  return fields;
}

export interface LoggerOptions {
  /** pino level name; default `info`. */
  level?: string;
  /** Where lines go; default stdout, written synchronously so nothing is lost at exit. */
  destination?: DestinationStream;
  /** Fields on every line. */
  base?: Record<string, unknown>;
}

/** A JSON logger whose lines carry the active trace context. */
export function createLogger({ level = 'info', destination, base }: LoggerOptions = {}): Logger {
  const options: PinoOptions = {
    level,
    base: base ?? { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => traceContextMixin(),
    // errors without SQL parameter values or row values (see errors/safe-error.ts)
    serializers: { err: (error: unknown) => pino.stdSerializers.err(toSafeError(error) as Error) },
  };
  return pino(options, destination ?? pino.destination({ fd: 1, sync: true }));
}
