// Tracing first, as in server.ts: its own bootstrap, its own service name.
import { telemetry } from './config/telemetry-worker';
import { getEnvOrExit } from './config/env';
import { bullmqTelemetry, createServices, openDatabase, openRedis } from './wiring';
import { createPlanJobHandlers } from './jobs/plan-job';
import { createPlanWorker } from './jobs/plan-worker';
import { redisEmitterNotifier } from './realtime/notifier';
import { createLogger } from './utils/logger';
import { SHUTDOWN_ORDER, ShutdownManager } from './utils/shutdown-manager';

/**
 * `npm run worker`: runs plan jobs from Redis (BullMQ). Needs REDIS_URL and
 * DATABASE_URL (the API's embedded PostgreSQL is not shared). Tells users through the
 * Socket.io Redis emitter, so whichever API instance holds their socket delivers.
 */
async function main(): Promise<void> {
  const env = getEnvOrExit();
  const logger = createLogger({ level: env.LOG_LEVEL, base: { pid: process.pid, process: 'worker' } });
  const shutdown = new ShutdownManager({ logger, timeoutMs: env.SHUTDOWN_TIMEOUT_MS });
  shutdown.listen();
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception; shutting down');
    void shutdown.shutdown('uncaughtException', 1);
  });
  process.on('unhandledRejection', (error) => logger.error({ err: error }, 'unhandled promise rejection'));
  const reserveMs = Math.min(3_000, Math.floor(env.SHUTDOWN_TIMEOUT_MS * 0.3));
  shutdown.register('telemetry', ({ deadline }) => telemetry.shutdown(Math.max(100, deadline - Date.now() - 250)), { order: SHUTDOWN_ORDER.telemetry });
  const deps = { env, logger, shutdown };

  try {
    if (env.REDIS_URL === undefined) throw new Error('REDIS_URL is required: the worker takes its jobs from Redis');
    const database = await openDatabase(deps, { allowEmbedded: false });
    const { chat, plans, agent } = await createServices(deps, database);
    const notifier = redisEmitterNotifier(openRedis(deps, 'socket.io-emitter'), env.REDIS_KEY_PREFIX);
    const worker = createPlanWorker({
      connection: openRedis(deps, 'worker', { maxRetriesPerRequest: null }),
      prefix: env.REDIS_KEY_PREFIX,
      telemetry: bullmqTelemetry(),
      handlers: createPlanJobHandlers({ plans, chat, agent, notifier }),
      logger,
      concurrency: env.PLAN_WORKER_CONCURRENCY,
      lockDurationMs: env.PLAN_JOB_LOCK_MS,
      stalledIntervalMs: env.PLAN_JOB_STALLED_INTERVAL_MS,
    });
    shutdown.register(
      'plan-worker',
      async ({ deadline }) => {
        // let running jobs finish; at the deadline leave them to the next worker (stalled-job recovery)
        const { abandoned } = await worker.close(deadline - reserveMs);
        if (abandoned) logger.warn('plan jobs still running at the deadline are left to the next worker');
      },
      { order: SHUTDOWN_ORDER.server },
    );
    await worker.waitUntilReady();
    logger.info({ concurrency: env.PLAN_WORKER_CONCURRENCY, tracing: telemetry.enabled }, 'plan worker ready');
  } catch (error) {
    logger.fatal({ err: error }, 'start-up failed');
    await shutdown.shutdown('startup-failed', 1);
  }
}

void main();
