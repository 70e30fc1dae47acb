// Tracing first, as in server.ts: its own bootstrap, its own service name.
import { telemetry } from './config/telemetry-worker';
import { bullmqTelemetry, createServices, openDatabase, openRedis } from './wiring';
import { createPlanJobHandlers } from './jobs/plan-job';
import { createPlanWorker } from './jobs/plan-worker';
import { redisEmitterNotifier } from './realtime/notifier';
import { runStartup, startProcess } from './process';
import { SHUTDOWN_ORDER } from './utils/shutdown-manager';

/**
 * `npm run worker`: runs plan jobs from Redis (BullMQ). Needs REDIS_URL and
 * DATABASE_URL (the API's embedded PostgreSQL is not shared). Tells users through the
 * Socket.io Redis emitter, so whichever API instance holds their socket delivers.
 */
async function main(): Promise<void> {
  const start = startProcess(telemetry, { logBase: { pid: process.pid, process: 'worker' } });
  const { env, logger, shutdown, reserveMs } = start;
  const deps = { env, logger, shutdown };

  await runStartup(start, async () => {
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
  });
}

void main();
