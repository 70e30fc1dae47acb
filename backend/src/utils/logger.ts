import pino, { type DestinationStream, type Logger, type LoggerOptions as PinoOptions } from 'pino';
import { toSafeError } from '../errors/safe-error';
import { traceContextMixin } from '../telemetry/logs';

export type { Logger } from 'pino';
/** The log mixin lives with the rest of tracing; re-exported for readers of this face. */
export { traceContextMixin } from '../telemetry/logs';

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
