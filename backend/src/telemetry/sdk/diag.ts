import { DiagLogLevel, ROOT_CONTEXT, context, type DiagLogger } from '@opentelemetry/api';
import type { Logger } from 'pino';

export const DIAG_LEVELS: Record<string, DiagLogLevel> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

/**
 * The OTLP exporters re-read OTEL_EXPORTER_OTLP_(TRACES_)COMPRESSION and call `GZIP`
 * invalid; config/env.ts has already accepted it case-insensitively, as the
 * specification asks, and hands the exporter `gzip`.
 */
const SETTLED_BY_ENV = /^Configuration: OTEL_EXPORTER_OTLP_(TRACES_)?COMPRESSION is invalid/;

/** SDK diagnostics written as our own JSON lines, so they reach the same log pipeline (`logger` carries `component: "otel"` and the OTEL_LOG_LEVEL level). */
export function diagLoggerFor(logger: Logger): DiagLogger {
  const write =
    (level: 'error' | 'warn' | 'info' | 'debug' | 'trace') =>
    (message: string, ...args: unknown[]) => {
      if (SETTLED_BY_ENV.test(message)) return;
      const detail = args.find((arg) => arg instanceof Error);
      // outside any trace: a diagnostic is about the SDK, not the request that triggered it
      context.with(ROOT_CONTEXT, () =>
        logger[level](detail ? { err: detail } : args.length > 0 ? { args } : {}, message),
      );
    };
  return {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    debug: write('debug'),
    verbose: write('trace'),
  };
}
