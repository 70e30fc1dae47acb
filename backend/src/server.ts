// Tracing first: it must patch http, pg, ioredis and undici before anything requires them.
import { telemetry } from './config/telemetry';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTokenVerifier, resolveJwtSecret } from './auth/tokens';
import { getEnvOrExit } from './config/env';
import { AppError } from './errors/app-error';
import { bullmqTelemetry, createServices, openDatabase, openRedis } from './wiring';
import { buildApp } from './http/app';
import { answerClientError } from './http/client-error';
import { originPolicy } from './http/cors';
import { closeGracefully, trackRequests } from './http/graceful-close';
import { createInProcessPlanQueue } from './jobs/in-process-plan-queue';
import { createPlanJobHandlers } from './jobs/plan-job';
import { createRedisPlanQueue, type PlanQueue } from './jobs/plan-queue';
import { tracingRedisAdapter } from './middleware/socketio-tracing.middleware';
import { socketIoKey, socketNotifier } from './realtime/notifier';
import { buildSocketServer } from './realtime/socket-server';
import { createAiBudget } from './services/budget.service';
import { createIdempotencyService } from './services/idempotency.service';
import { createPaymentsService } from './services/payments.service';
import { createUsageService } from './services/usage.service';
import { createLogger } from './utils/logger';
import { SHUTDOWN_ORDER, ShutdownManager } from './utils/shutdown-manager';

async function main(): Promise<void> {
  const env = getEnvOrExit();
  const logger = createLogger({ level: env.LOG_LEVEL });
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
  // Time left for the steps after the servers (queue, pool, database, span flush).
  const reserveMs = Math.min(3_000, Math.floor(env.SHUTDOWN_TIMEOUT_MS * 0.3));
  shutdown.register('telemetry', ({ deadline }) => telemetry.shutdown(Math.max(100, deadline - Date.now() - 250)), {
    order: SHUTDOWN_ORDER.telemetry,
  });
  const deps = { env, logger, shutdown };

  try {
    const database = await openDatabase(deps, { allowEmbedded: true });
    const { sessions, chat, plans, agent } = await createServices(deps, database);
    const payments = createPaymentsService({ db: database.db, sessions });
    const usage = createUsageService({ db: database.db, sessions });
    const budget = createAiBudget({ usage, dailyTokens: env.AI_DAILY_TOKEN_BUDGET });
    const idempotency = createIdempotencyService({ db: database.db, ttlSeconds: env.IDEMPOTENCY_KEY_TTL_SECONDS, logger });
    const allowedOrigin = originPolicy({ origins: env.CORS_ORIGINS, production: env.NODE_ENV === 'production' });
    const { secret, generated } = await resolveJwtSecret({ jwtSecret: env.JWT_SECRET, dataDir: env.DATA_DIR });
    if (generated !== undefined) {
      logger.warn({ file: generated }, 'JWT_SECRET is not set: using a generated development secret; `npm run token -- <userId>` prints a token');
    }
    const verifier = createTokenVerifier(secret, { issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE });

    // The app is the server's listener from the start: Socket.io (engine.io) wraps the
    // listeners present when it attaches, and a later one would also answer /socket.io/.
    let handle: RequestListener = (_req, res) => {
      res.statusCode = 503;
      res.end();
    };
    const server = createServer((req, res) => handle(req, res));
    server.on('clientError', answerClientError({ logger }));
    const { io, work } = buildSocketServer(server, { verifier, chat, budget, logger, allowedOrigin });
    const requests = trackRequests(server);
    const retry = { attempts: env.PLAN_JOB_ATTEMPTS, backoffMs: env.PLAN_JOB_BACKOFF_MS };
    let planQueue: PlanQueue;
    let redisCheck: (() => Promise<unknown>) | undefined;
    if (env.REDIS_URL !== undefined) {
      const pub = openRedis(deps, 'socket.io-pub');
      const sub = openRedis(deps, 'socket.io-sub');
      io.adapter(tracingRedisAdapter(pub, sub, socketIoKey(env.REDIS_KEY_PREFIX)));
      // fail fast when Redis is down: an HTTP request must not hang on the queue
      const queueConnection = openRedis(deps, 'queue', { maxRetriesPerRequest: 1 });
      planQueue = createRedisPlanQueue({ connection: queueConnection, prefix: env.REDIS_KEY_PREFIX, telemetry: bullmqTelemetry(), retry });
      redisCheck = () => queueConnection.ping();
      logger.info('plan jobs go to Redis (BullMQ); run workers with `npm run worker`; Socket.io events reach every instance');
    } else {
      const handlers = createPlanJobHandlers({ plans, chat, agent, notifier: socketNotifier(io) });
      planQueue = createInProcessPlanQueue({ handlers, retry, logger });
      logger.warn('REDIS_URL is not set: plan jobs run inside this process (a job still waiting is lost on restart; one instance only)');
    }
    shutdown.register('plan-queue', ({ deadline }) => planQueue.close(deadline - reserveMs), { order: SHUTDOWN_ORDER.connections - 1 });

    const app = buildApp({
      logger,
      verifier,
      sessions,
      payments,
      usage,
      plans,
      planQueue,
      idempotency,
      budget,
      allowedOrigin,
      bodyLimit: env.BODY_LIMIT,
      isDraining: () => shutdown.isShuttingDown,
      readiness: {
        async check() {
          if (shutdown.isShuttingDown) throw new AppError('SERVICE_UNAVAILABLE', 'shutting down');
          await database.pool.query('SELECT 1');
          await redisCheck?.();
        },
      },
    });
    handle = app;

    shutdown.register(
      'http-server',
      async ({ deadline }) => {
        const forceAt = deadline - reserveMs;
        // The listener stays open while chat replies and the requests in flight finish: a
        // load balancer's probe of /ready gets 503 (and takes this instance out) rather than
        // a refused connection; new requests are still served, with `Connection: close`.
        const [unfinished] = await Promise.all([work.drain(forceAt), requests.settle(forceAt)]);
        if (unfinished > 0) logger.warn({ unfinished }, 'chat replies still running at the deadline were cut off');
        const closed = closeGracefully(server, { forceAt });
        io.disconnectSockets(true);
        const { forced } = await closed;
        if (forced) logger.warn('in-flight requests did not finish in time; their connections were closed');
      },
      { order: SHUTDOWN_ORDER.server },
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(env.PORT, env.HOST, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    logger.info({ port, host: env.HOST, tracing: telemetry.enabled, jobs: planQueue.mode }, `listening on http://${env.HOST === '0.0.0.0' ? 'localhost' : env.HOST}:${port}`);
  } catch (error) {
    logger.fatal({ err: error }, 'start-up failed');
    await shutdown.shutdown('startup-failed', 1);
  }
}

void main();
