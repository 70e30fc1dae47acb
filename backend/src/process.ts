import type { Telemetry } from './telemetry';
import { getEnvOrExit, type Env } from './config/env';
import { createLogger, type Logger } from './utils/logger';
import { SHUTDOWN_ORDER, ShutdownManager } from './utils/shutdown-manager';

export interface ProcessStart {
  env: Readonly<Env>;
  logger: Logger;
  shutdown: ShutdownManager;
  /** Time left for the steps after the servers (queue, pool, database, span flush). */
  reserveMs: number;
}

/**
 * The start-up prologue both processes (server.ts, worker.ts) share, run after their tracing
 * bootstrap: the validated environment, the logger, the shutdown manager listening for signals
 * (tracing flushed last), and what happens to stray errors.
 */
export function startProcess(
  telemetry: Telemetry,
  { logBase }: { logBase?: Record<string, unknown> } = {},
): ProcessStart {
  const env = getEnvOrExit();
  const logger = createLogger({ level: env.LOG_LEVEL, ...(logBase !== undefined ? { base: logBase } : {}) });
  const shutdown = new ShutdownManager({ logger, timeoutMs: env.SHUTDOWN_TIMEOUT_MS });
  shutdown.listen();
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception; shutting down');
    void shutdown.shutdown('uncaughtException', 1);
  });
  // Logged, not fatal: one stray rejection (a library's unobserved promise) must not take
  // every user's connection down. The known one, an aborted Gemini stream, is observed
  // where it arises (agent/observe-stream.ts).
  process.on('unhandledRejection', (error) => {
    logger.error({ err: error }, 'unhandled promise rejection');
  });
  const reserveMs = Math.min(3_000, Math.floor(env.SHUTDOWN_TIMEOUT_MS * 0.3));
  shutdown.register('telemetry', ({ deadline }) => telemetry.shutdown(Math.max(100, deadline - Date.now() - 250)), {
    order: SHUTDOWN_ORDER.telemetry,
  });
  return { env, logger, shutdown, reserveMs };
}

/** Runs a process's start-up; a failure is logged and the process shuts down with exit code 1. */
export async function runStartup({ logger, shutdown }: ProcessStart, start: () => Promise<void>): Promise<void> {
  try {
    await start();
  } catch (error) {
    logger.fatal({ err: error }, 'start-up failed');
    await shutdown.shutdown('startup-failed', 1);
  }
}
