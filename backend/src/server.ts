// Tracing first: it must patch http, pg, ioredis and undici before anything requires them.
import { telemetry } from './config/telemetry';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTokenVerifier, resolveJwtSecret } from './auth/tokens';
import { createServices, openDatabase, openPlanQueue, readinessCheck } from './wiring';
import { buildApp } from './http/app';
import { answerClientError } from './http/client-error';
import { originPolicy } from './http/cors';
import { closeGracefully, trackRequests } from './http/graceful-close';
import { buildSocketServer } from './realtime/socket-server';
import { createAiBudget } from './services/budget.service';
import { createIdempotencyService } from './services/idempotency.service';
import { createPaymentsService } from './services/payments.service';
import { createUsageService } from './services/usage.service';
import { runStartup, startProcess } from './process';
import { SHUTDOWN_ORDER } from './utils/shutdown-manager';

async function main(): Promise<void> {
  const start = startProcess(telemetry);
  const { env, logger, shutdown, reserveMs } = start;
  const deps = { env, logger, shutdown };

  await runStartup(start, async () => {
    const database = await openDatabase(deps, { allowEmbedded: true });
    const { sessions, chat, plans, agent } = await createServices(deps, database);
    const payments = createPaymentsService({ db: database.db, sessions });
    const usage = createUsageService({ db: database.db, sessions });
    const budget = createAiBudget({ usage, dailyTokens: env.AI_DAILY_TOKEN_BUDGET });
    const idempotency = createIdempotencyService({
      db: database.db,
      ttlSeconds: env.IDEMPOTENCY_KEY_TTL_SECONDS,
      logger,
    });
    const allowedOrigin = originPolicy({ origins: env.CORS_ORIGINS, production: env.NODE_ENV === 'production' });
    const { secret, generated } = await resolveJwtSecret({ jwtSecret: env.JWT_SECRET, dataDir: env.DATA_DIR });
    if (generated !== undefined) {
      logger.warn(
        { file: generated },
        'JWT_SECRET is not set: using a generated development secret; `npm run token -- <userId>` prints a token',
      );
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
    const { planQueue, readiness: queueReadiness } = openPlanQueue(deps, { io, services: { plans, chat, agent } });
    shutdown.register('plan-queue', ({ deadline }) => planQueue.close(deadline - reserveMs), {
      order: SHUTDOWN_ORDER.connections - 1,
    });

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
      readiness: readinessCheck({ shutdown, database, queueReadiness }),
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
    logger.info(
      { port, host: env.HOST, tracing: telemetry.enabled, jobs: planQueue.mode },
      `listening on http://${env.HOST === '0.0.0.0' ? 'localhost' : env.HOST}:${port}`,
    );
  });
}

void main();
