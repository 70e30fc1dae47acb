import express, { type Express } from 'express';
import type { TokenVerifier } from '../auth/tokens';
import { authenticate } from '../middleware/auth.middleware';
import { errorHandler, notFound } from '../middleware/error-handler.middleware';
import { requestContext } from '../middleware/request-context.middleware';
import { requireJson } from '../middleware/require-json.middleware';
import { recordRoute } from '../middleware/route.middleware';
import type { PlanQueue } from '../jobs/plan-queue';
import type { ChatService } from '../services/chat.service';
import type { PlansService } from '../services/plans.service';
import type { PaymentsService } from '../services/payments.service';
import type { SessionsService } from '../services/sessions.service';
import type { Logger } from '../utils/logger';
import { healthRouter, type Readiness } from './routes/health.routes';
import { paymentsRouter } from './routes/payments.routes';
import { plansRouter } from './routes/plans.routes';
import { sessionsRouter } from './routes/sessions.routes';

export interface AppDeps {
  logger: Logger;
  verifier: TokenVerifier;
  sessions: SessionsService;
  payments: PaymentsService;
  chat: ChatService;
  plans: PlansService;
  planQueue: PlanQueue;
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
  app.use(healthRouter({ readiness: deps.readiness, logger: deps.logger }));

  // Applied per route, after the route matched, so that even a request refused by
  // them has its server span named after the route (`POST /api/sessions`).
  const guard = [recordRoute(), authenticate({ verifier: deps.verifier }), requireJson(), express.json({ limit: deps.bodyLimit })];
  app.use('/api/sessions', sessionsRouter({ sessions: deps.sessions, chat: deps.chat, guard }));
  app.use('/api/sessions', plansRouter({ plans: deps.plans, queue: deps.planQueue, guard }));
  app.use('/api/payments', paymentsRouter({ payments: deps.payments, guard }));

  app.use(notFound());
  app.use(errorHandler({ logger: deps.logger }));
  return app;
}
