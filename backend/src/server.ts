// Tracing first: it must patch http, express and pg before anything requires them.
import { telemetry } from './config/telemetry';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTokenVerifier, resolveJwtSecret } from './auth/tokens';
import { getEnvOrExit } from './config/env';
import { createDatabase, runMigrations } from './db/client';
import { startEmbeddedPostgres } from './db/embedded';
import { buildApp } from './http/app';
import { closeGracefully } from './http/graceful-close';
import { createPaymentsService } from './services/payments.service';
import { createSessionsService } from './services/sessions.service';
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
  // Logged, not fatal: @google/generative-ai leaves a promise unobserved when a stream
  // breaks, and one bad upstream response must not take every user's connection down.
  process.on('unhandledRejection', (error) => {
    logger.error({ err: error }, 'unhandled promise rejection');
  });
  // Time left for the steps after the HTTP server (pool, database, span flush).
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

    const sessions = createSessionsService({ db: database.db });
    const payments = createPaymentsService({ db: database.db, sessions });
    const app = buildApp({
      logger,
      verifier: createTokenVerifier(secret),
      sessions,
      payments,
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
    shutdown.register(
      'http-server',
      async ({ deadline }) => {
        const { forced } = await closeGracefully(server, { forceAt: deadline - reserveMs });
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
