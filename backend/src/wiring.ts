/**
 * The composition root both processes (the API server and the plan worker) share: database,
 * the model and the agent, the services, Redis, the plan queue and readiness. Each factory
 * registers what it opens with the shutdown manager, in the order things must close.
 */
import IORedis, { type Redis, type RedisOptions } from 'ioredis';
import { createAgent } from './agent/agent';
import { observeAbandonedStreamResponses } from './agent/observe-stream';
import { DEFAULT_AGENT } from './agent/configuration';
import { buildAgentGraph } from './agent/graph';
import { createAgentTools } from './agent/tools';
import type { Env } from './config/env';
import type { Server as SocketServer } from 'socket.io';
import { AppError } from './errors/app-error';
import { createInProcessPlanQueue } from './jobs/in-process-plan-queue';
import { createPlanJobHandlers } from './jobs/plan-job';
import { createRedisPlanQueue, type PlanQueue } from './jobs/plan-queue';
import { tracingRedisAdapter } from './middleware/socketio-tracing.middleware';
import { socketIoKey, socketNotifier } from './realtime/notifier';
import { createChatModel } from './agent/model';
import { createDatabase, runMigrations, type DatabaseHandle } from './db/client';
import { startEmbeddedPostgres } from './dev/embedded-postgres';
import { startGeminiStandIn } from './dev/gemini-stand-in/server';
import { createChatService } from './services/chat.service';
import { createPlansService } from './services/plans.service';
import { createSessionsService } from './services/sessions.service';
import { excludeServerFromTracing } from './config/telemetry-options';
import { bullmqTelemetry } from './telemetry/jobs';
import type { Logger } from './utils/logger';
import { SHUTDOWN_ORDER, type ShutdownManager } from './utils/shutdown-manager';

type Deps = { env: Readonly<Env>; logger: Logger; shutdown: ShutdownManager };

/** PostgreSQL: DATABASE_URL, or (when allowed) an embedded cluster under DATA_DIR. Migrations applied. */
export async function openDatabase(
  { env, logger, shutdown }: Deps,
  { allowEmbedded }: { allowEmbedded: boolean },
): Promise<DatabaseHandle> {
  let url = env.DATABASE_URL;
  if (url === undefined) {
    if (!allowEmbedded)
      throw new Error('DATABASE_URL is required here (the embedded PostgreSQL belongs to one API process)');
    const embedded = await startEmbeddedPostgres({ dataDir: env.DATA_DIR, port: env.EMBEDDED_PG_PORT, logger });
    shutdown.register('embedded-postgres', () => embedded.stop(), { order: SHUTDOWN_ORDER.processes });
    url = embedded.connectionString;
  }
  const database = createDatabase({ connectionString: url, max: env.DATABASE_POOL_MAX, logger });
  shutdown.register('database-pool', () => database.close(), { order: SHUTDOWN_ORDER.connections });
  await runMigrations(database.pool, logger);
  return database;
}

/** Where the model is: the real API, a configured base URL, or (keyless) the offline stand-in. */
async function resolveGemini({
  env,
  logger,
  shutdown,
}: Deps): Promise<{ apiKey: string; baseUrl: string | undefined }> {
  if (env.GEMINI_API_KEY !== undefined) return { apiKey: env.GEMINI_API_KEY, baseUrl: env.GEMINI_BASE_URL };
  if (env.GEMINI_BASE_URL !== undefined) return { apiKey: 'not-set', baseUrl: env.GEMINI_BASE_URL };
  const standIn = await startGeminiStandIn();
  excludeServerFromTracing(standIn.server);
  shutdown.register('gemini-stand-in', () => standIn.close(), { order: SHUTDOWN_ORDER.connections });
  logger.warn(
    { baseUrl: standIn.baseUrl },
    'GEMINI_API_KEY is not set: replies come from the offline Gemini stand-in (canned renovation answers over the real Gemini REST API)',
  );
  return { apiKey: 'stand-in', baseUrl: standIn.baseUrl };
}

/** Services and the agent on one database. */
export async function createServices(deps: Deps, database: DatabaseHandle) {
  const { env } = deps;
  const gemini = await resolveGemini(deps);
  const model = createChatModel({
    model: env.GEMINI_MODEL,
    temperature: env.GEMINI_TEMPERATURE,
    maxOutputTokens: env.GEMINI_MAX_OUTPUT_TOKENS,
    maxRetries: env.GEMINI_MAX_RETRIES,
    captureContent: env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT,
    ...gemini,
  });
  if (!observeAbandonedStreamResponses(model)) {
    deps.logger.warn('the Gemini client was not found on the model: an aborted reply may log an unhandled rejection');
  }
  const agentConfig = { ...DEFAULT_AGENT, model: env.GEMINI_MODEL, maxSteps: env.AGENT_MAX_STEPS };
  const agent = createAgent({
    graph: buildAgentGraph({ model, tools: createAgentTools({ db: database.db }) }),
    config: agentConfig,
    captureContent: env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT,
  });
  const sessions = createSessionsService({ db: database.db });
  const chat = createChatService({ db: database.db, sessions, agent, historyLimit: agentConfig.historyLimit });
  const plans = createPlansService({ db: database.db, sessions });
  return { agent, sessions, chat, plans };
}

/** A Redis connection closed at shutdown. BullMQ workers need `maxRetriesPerRequest: null` (blocking commands). */
export function openRedis({ env, logger, shutdown }: Deps, name: string, options: RedisOptions = {}): Redis {
  const redis = new IORedis(env.REDIS_URL!, { connectionName: name, lazyConnect: false, ...options });
  redis.on('error', (error) => logger.warn({ err: error, connection: name }, 'redis connection error'));
  shutdown.register(
    `redis-${name}`,
    async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
    { order: SHUTDOWN_ORDER.connections + 1 },
  );
  return redis;
}

/** BullMQ's telemetry, through the OpenTelemetry API (a no-op when tracing is off). */
export { bullmqTelemetry };

type Services = Pick<Awaited<ReturnType<typeof createServices>>, 'plans' | 'chat' | 'agent'>;

/**
 * The API server's plan queue. With REDIS_URL, jobs go to Redis (BullMQ; workers run them)
 * and Socket.io room events reach every instance through the Redis adapter; without it,
 * jobs run inside this process. `readiness` checks what the queue depends on.
 */
export function openPlanQueue(deps: Deps, { io, services }: { io: SocketServer; services: Services }) {
  const { env, logger } = deps;
  const retry = { attempts: env.PLAN_JOB_ATTEMPTS, backoffMs: env.PLAN_JOB_BACKOFF_MS };
  if (env.REDIS_URL !== undefined) {
    const pub = openRedis(deps, 'socket.io-pub');
    const sub = openRedis(deps, 'socket.io-sub');
    io.adapter(tracingRedisAdapter(pub, sub, socketIoKey(env.REDIS_KEY_PREFIX)));
    // fail fast when Redis is down: an HTTP request must not hang on the queue
    const queueConnection = openRedis(deps, 'queue', { maxRetriesPerRequest: 1 });
    const planQueue: PlanQueue = createRedisPlanQueue({
      connection: queueConnection,
      prefix: env.REDIS_KEY_PREFIX,
      telemetry: bullmqTelemetry(),
      retry,
    });
    logger.info(
      'plan jobs go to Redis (BullMQ); run workers with `npm run worker`; Socket.io events reach every instance',
    );
    return { planQueue, readiness: () => queueConnection.ping() };
  }
  const handlers = createPlanJobHandlers({ ...services, notifier: socketNotifier(io) });
  const planQueue: PlanQueue = createInProcessPlanQueue({ handlers, retry, logger });
  logger.warn(
    'REDIS_URL is not set: plan jobs run inside this process (a job still waiting is lost on restart; one instance only)',
  );
  return { planQueue, readiness: undefined };
}

/** `/ready`: not while shutting down, and only when the database (and the queue's Redis) answer. */
export function readinessCheck({
  shutdown,
  database,
  queueReadiness,
}: {
  shutdown: ShutdownManager;
  database: DatabaseHandle;
  queueReadiness: (() => Promise<unknown>) | undefined;
}) {
  return {
    async check() {
      if (shutdown.isShuttingDown) throw new AppError('SERVICE_UNAVAILABLE', 'shutting down');
      await database.pool.query('SELECT 1');
      await queueReadiness?.();
    },
  };
}
