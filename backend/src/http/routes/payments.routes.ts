import { Router, type RequestHandler } from 'express';
import { userIdOf } from '../../middleware/auth.middleware';
import type { PaymentsService } from '../../services/payments.service';
import { ATTR_SESSION_ID, annotateServerSpan } from '../../telemetry';
import { createPaymentSchema, parseBody } from '../schemas';

export function paymentsRouter({ payments, guard }: { payments: PaymentsService; guard: RequestHandler[] }): Router {
  const router = Router();

  router.post('/', ...guard, async (req, res) => {
    const input = parseBody(createPaymentSchema, req.body);
    annotateServerSpan({ [ATTR_SESSION_ID]: input.sessionId });
    res.status(201).json(await payments.create(userIdOf(res), input));
  });

  return router;
}
