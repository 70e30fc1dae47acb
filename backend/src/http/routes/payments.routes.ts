import { Router, type RequestHandler } from 'express';
import { userIdOf } from '../middleware/auth.middleware';
import type { IdempotencyService } from '../../services/idempotency.service';
import type { PaymentsService } from '../../services/payments.service';
import { ATTR_SESSION_ID, annotateServerSpan } from '../../telemetry';
import { idempotencyKeyOf, sendAnswer } from '../idempotency';
import { createPaymentSchema, parseBody } from '../schemas';

/** `POST /api/payments` → 201 {id, status}; with an `Idempotency-Key`, a repeat returns the first payment. */
export interface PaymentsRouterDeps {
  payments: PaymentsService;
  idempotency: IdempotencyService;
  guard: RequestHandler[];
}

export function paymentsRouter({ payments, idempotency, guard }: PaymentsRouterDeps): Router {
  const router = Router();

  router.post('/', ...guard, async (req, res) => {
    const key = idempotencyKeyOf(req);
    const input = parseBody(createPaymentSchema, req.body);
    annotateServerSpan({ [ATTR_SESSION_ID]: input.sessionId });
    const userId = userIdOf(res);
    const request = { userId, key, method: req.method, path: req.baseUrl + req.path, body: req.body as unknown };
    const answer = await idempotency.run(request, async (tx) => ({
      status: 201,
      body: await payments.create(userId, input, tx),
    }));
    sendAnswer(res, answer);
  });

  return router;
}
