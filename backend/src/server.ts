// Tracing first: it must patch http, express and pg before anything requires them.
import { telemetry } from './config/telemetry';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAgent } from './agent/agent';
import { DEFAULT_AGENT } from './agent/configuration';
import { buildAgentGraph } from './agent/graph';
import { createAgentTools } from './agent/tools';
import { createTokenVerifier, resolveJwtSecret } from './auth/tokens';
import { getEnvOrExit } from './config/env';
import { createChatModel } from './config/gemini';
import { createDatabase, runMigrations } from './db/client';
import { startEmbeddedPostgres } from './db/embedded';
import { startGeminiStandIn } from './gemini-stand-in/server';
import { buildApp } from './http/app';
import { closeGracefully } from './http/graceful-close';
import { buildSocketServer } from './realtime/socket-server';
import { createChatService } from './services/chat.service';
import { createPaymentsService } from './services/payments.service';
import { createSessionsService } from './services/sessions.service';
import { excludeServerFromTracing } from './telemetry';
import { createLogger, type Logger } from './utils/logger';
import { SHUTDOWN_ORDER, ShutdownManager } from './utils/shutdown-manager';

type Env = ReturnType<typeof getEnvOrExit>;

/** Where the model is: the real API, a configured base URL, or (keyless) the offline stand-in. */
async function resolveGemini(env: Env, logger: Logger, shutdown: ShutdownManager): Promise<{ apiKey: string; baseUrl: string | undefined }> {
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

async function main(): Promise<void> {
  const env = getEnvOrExit();
  const logger = createLogger({ level: env.LOG_LEVEL });
  const shutdown = new ShutdownManager({ logger, timeoutMs: env.SHUTDOWN_TIMEOUT_MS });
  shutdown.listen();
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception; shutting down');
    void shutdown.shutdown('uncaughtException', 1);
  });
  // Logged, not fatal: @google/generative-ai leaves a promise unobserved when a stream
  // breaks, and one bad upstream response must not take every user's connection down.
  process.on('unhandledRejection', (error) => {
    logger.error({ err: error }, 'unhandled promise rejection');
  });
  // Time left for the steps after the servers (pool, database, span flush).
  const reserveMs = Math.min(3_000, Math.floor(env.SHUTDOWN_TIMEOUT_MS * 0.3));
  shutdown.register('telemetry', ({ deadline }) => telemetry.shutdown(Math.max(100, deadline - Date.now() - 250)), {
    order: SHUTDOWN_ORDER.telemetry,
  });

  try {
    let databaseUrl = env.DATABASE_URL;
    if (databaseUrl === undefined) {
      const embedded = await startEmbeddedPostgres({ dataDir: env.DATA_DIR, port: env.EMBEDDED_PG_PORT, logger });
      shutdown.register('embedded-postgres', () => embedded.stop(), { order: SHUTDOWN_ORDER.processes });
      databaseUrl = embedded.connectionString;
    }
    const database = createDatabase({ connectionString: databaseUrl, max: env.DATABASE_POOL_MAX, logger });
    shutdown.register('database-pool', () => database.close(), { order: SHUTDOWN_ORDER.connections });
    await runMigrations(database.pool, logger);

    const { secret, generated } = await resolveJwtSecret({ jwtSecret: env.JWT_SECRET, dataDir: env.DATA_DIR });
    if (generated !== undefined) {
      logger.warn({ file: generated }, 'JWT_SECRET is not set: using a generated development secret; `npm run token -- <userId>` prints a token');
    }
    const verifier = createTokenVerifier(secret);

    const gemini = await resolveGemini(env, logger, shutdown);
    const model = createChatModel({
      model: env.GEMINI_MODEL,
      temperature: env.GEMINI_TEMPERATURE,
      maxOutputTokens: env.GEMINI_MAX_OUTPUT_TOKENS,
      maxRetries: env.GEMINI_MAX_RETRIES,
      captureContent: env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT,
      ...gemini,
    });
    const agentConfig = { ...DEFAULT_AGENT, model: env.GEMINI_MODEL, maxSteps: env.AGENT_MAX_STEPS };
    const agent = createAgent({
      graph: buildAgentGraph({ model, tools: createAgentTools({ db: database.db }) }),
      config: agentConfig,
      captureContent: env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT,
    });

    const sessions = createSessionsService({ db: database.db });
    const payments = createPaymentsService({ db: database.db, sessions });
    const chat = createChatService({ db: database.db, sessions, agent, historyLimit: agentConfig.historyLimit });
    const app = buildApp({
      logger,
      verifier,
      sessions,
      payments,
      chat,
      bodyLimit: env.BODY_LIMIT,
      isDraining: () => shutdown.isShuttingDown,
      readiness: {
        async check() {
          if (shutdown.isShuttingDown) throw new Error('shutting down');
          await database.pool.query('SELECT 1');
        },
      },
    });

    const server = createServer(app);
    const { io, work } = buildSocketServer(server, { verifier, chat, logger });
    shutdown.register(
      'http-server',
      async ({ deadline }) => {
        const forceAt = deadline - reserveMs;
        // stop accepting connections while HTTP requests and chat replies finish
        const closed = closeGracefully(server, { forceAt });
        const unfinished = await work.drain(forceAt);
        if (unfinished > 0) logger.warn({ unfinished }, 'chat replies still running at the deadline were cut off');
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
    logger.info({ port, host: env.HOST, tracing: telemetry.enabled }, `listening on http://${env.HOST === '0.0.0.0' ? 'localhost' : env.HOST}:${port}`);
  } catch (error) {
    logger.fatal({ err: error }, 'start-up failed');
    await shutdown.shutdown('startup-failed', 1);
  }
}

void main();
