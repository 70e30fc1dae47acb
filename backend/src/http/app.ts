import express, { type Express } from 'express';
import type { TokenVerifier } from '../auth/tokens';
import { authenticate } from './middleware/auth.middleware';
import { errorHandler, notFound } from './middleware/error-handler.middleware';
import { requestContext } from './middleware/request-context.middleware';
import { requireJson } from './middleware/require-json.middleware';
import { recordRoute } from './middleware/route.middleware';
import type { PlanQueue } from '../jobs/plan-queue';
import type { AiBudget } from '../services/budget.service';
import type { IdempotencyService } from '../services/idempotency.service';
import type { PlansService } from '../services/plans.service';
import type { PaymentsService } from '../services/payments.service';
import type { SessionsService } from '../services/sessions.service';
import type { UsageService } from '../services/usage.service';
import type { Logger } from '../utils/logger';
import { corsMiddleware, type OriginPolicy } from './cors';
import { healthRouter, type Readiness } from './routes/health.routes';
import { paymentsRouter } from './routes/payments.routes';
import { plansRouter } from './routes/plans.routes';
import { sessionsRouter } from './routes/sessions.routes';

export interface AppDeps {
  logger: Logger;
  verifier: TokenVerifier;
  sessions: SessionsService;
  payments: PaymentsService;
  usage: UsageService;
  plans: PlansService;
  planQueue: PlanQueue;
  idempotency: IdempotencyService;
  budget: AiBudget;
  /** Browser origins allowed cross-origin. */
  allowedOrigin: OriginPolicy;
  readiness: Readiness;
  /** Largest JSON body, e.g. `100kb`. */
  bodyLimit: string;
  isDraining?: () => boolean;
}

/** The HTTP API, unstarted: the entry file listens. */
export function buildApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.use(requestContext({ logger: deps.logger, isDraining: deps.isDraining }));
  app.use(corsMiddleware(deps.allowedOrigin));
  app.use(healthRouter({ readiness: deps.readiness, logger: deps.logger }));

  // Applied per route, after the route matched, so that even a request refused by
  // them has its server span named after the route (`POST /api/sessions`).
  // Not strict: a `null` (or `42`) body then reaches the schema and is a validation error
  // saying what is expected, instead of "not valid JSON" for what is valid JSON.
  const json = express.json({ limit: deps.bodyLimit, strict: false });
  const guard = [recordRoute(), authenticate({ verifier: deps.verifier }), requireJson(), json];
  const { logger, idempotency, budget } = deps;
  app.use('/api/sessions', sessionsRouter({ sessions: deps.sessions, usage: deps.usage, guard }));
  const { plans, planQueue: queue } = deps;
  app.use('/api/sessions', plansRouter({ plans, queue, idempotency, budget, logger, guard }));
  app.use('/api/payments', paymentsRouter({ payments: deps.payments, idempotency, guard }));

  app.use(notFound());
  app.use(errorHandler({ logger: deps.logger }));
  return app;
}
