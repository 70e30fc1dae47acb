/**
 * Wiring shared by the two processes (the API server and the plan worker): database,
 * the model and the agent, the services, Redis. Each factory registers what it opens
 * with the shutdown manager, in the order things must close.
 */
import IORedis, { type Redis, type RedisOptions } from 'ioredis';
import { createAgent } from './agent/agent';
import { observeAbandonedStreamResponses } from './agent/observe-stream';
import { DEFAULT_AGENT } from './agent/configuration';
import { buildAgentGraph } from './agent/graph';
import { createAgentTools } from './agent/tools';
import type { Env } from './config/env';
import { createChatModel } from './agent/model';
import { createDatabase, runMigrations, type DatabaseHandle } from './db/client';
import { startEmbeddedPostgres } from './dev/embedded-postgres';
import { startGeminiStandIn } from './dev/gemini-stand-in/server';
import { createChatService } from './services/chat.service';
import { createPlansService } from './services/plans.service';
import { createSessionsService } from './services/sessions.service';
import { excludeServerFromTracing } from './config/telemetry-options';
import type { Logger } from './utils/logger';
import { SHUTDOWN_ORDER, type ShutdownManager } from './utils/shutdown-manager';

type Deps = { env: Readonly<Env>; logger: Logger; shutdown: ShutdownManager };

/** PostgreSQL: DATABASE_URL, or (when allowed) an embedded cluster under DATA_DIR. Migrations applied. */
export async function openDatabase({ env, logger, shutdown }: Deps, { allowEmbedded }: { allowEmbedded: boolean }): Promise<DatabaseHandle> {
  let url = env.DATABASE_URL;
  if (url === undefined) {
    if (!allowEmbedded) throw new Error('DATABASE_URL is required here (the embedded PostgreSQL belongs to one API process)');
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
async function resolveGemini({ env, logger, shutdown }: Deps): Promise<{ apiKey: string; baseUrl: string | undefined }> {
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
  shutdown.register(`redis-${name}`, async () => {
    await redis.quit().catch(() => redis.disconnect());
  }, { order: SHUTDOWN_ORDER.connections + 1 });
  return redis;
}

/** BullMQ's telemetry, through the OpenTelemetry API (a no-op when tracing is off). */
export { bullmqTelemetry } from './telemetry/jobs';
