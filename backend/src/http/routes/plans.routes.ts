import { randomUUID } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import type { PlanQueue } from '../../jobs/plan-queue';
import { AppError } from '../../errors/app-error';
import { userIdOf } from '../middleware/auth.middleware';
import { isBudgetRefusal, type AiBudget } from '../../services/budget.service';
import type { IdempotencyService } from '../../services/idempotency.service';
import type { PlansService } from '../../services/plans.service';
import { ATTR_ERROR_TYPE, annotateServerSpan } from '../../telemetry';
import type { Logger } from '../../utils/logger';
import { idempotencyKeyOf, sendAnswer } from '../idempotency';
import { sessionIdParam } from './sessions.routes';

export interface PlansRouterDeps {
  plans: PlansService;
  queue: PlanQueue;
  idempotency: IdempotencyService;
  budget: AiBudget;
  logger: Logger;
  guard: RequestHandler[];
}

/**
 * `POST /api/sessions/:sessionId/plan` → 202 {jobId}: the agent writes a renovation plan
 * in the background and the user's sockets get `plan:ready` (or `plan:failed`). While a
 * job of the session is queued or running, a new request gets that job; with an
 * `Idempotency-Key`, a repeat gets the first answer. Over the daily AI budget: 429.
 * `GET /api/sessions/:sessionId/plan` → the latest plan and its job's state.
 */
export function plansRouter({ plans, queue, idempotency, budget, logger, guard }: PlansRouterDeps): Router {
  const router = Router();

  async function assertWithinBudget(userId: string): Promise<void> {
    try {
      await budget.assertWithin(userId);
    } catch (error) {
      if (isBudgetRefusal(error)) {
        annotateServerSpan({ [ATTR_ERROR_TYPE]: error.code });
        logger.warn({ code: error.code, user_id: userId, ...error.details }, 'AI budget exceeded: plan refused');
      }
      throw error;
    }
  }

  router.post('/:sessionId/plan', ...guard, sessionIdParam, async (req, res) => {
    const userId = userIdOf(res);
    const sessionId = req.params.sessionId as string;
    const key = idempotencyKeyOf(req);
    let created: string | undefined;
    // the body is not part of this request: only the key, the user and the path are
    const request = { userId, key, method: req.method, path: req.baseUrl + req.path, body: null };
    const answer = await idempotency.run(request, async (tx) => {
      const open = await plans.openJob(tx, userId, sessionId);
      if (open !== undefined) return { status: 202, body: { jobId: open } };
      await assertWithinBudget(userId);
      created = randomUUID();
      await plans.createJob(userId, sessionId, created, tx);
      return { status: 202, body: { jobId: created } };
    });
    if (created !== undefined) {
      try {
        // after the commit: the job's row must exist when a worker takes it
        await queue.enqueue(created, { sessionId, userId });
      } catch (error) {
        await plans.markFailed(created, 0, 'SERVICE_UNAVAILABLE: the job queue was unavailable').catch(() => undefined);
        if (key !== undefined) await idempotency.forget(userId, key).catch(() => undefined);
        throw new AppError('SERVICE_UNAVAILABLE', 'the job queue is unavailable; try again shortly', { cause: error });
      }
    }
    sendAnswer(res, answer);
  });

  router.get('/:sessionId/plan', ...guard, sessionIdParam, async (req, res) => {
    const { plan, job } = await plans.latest(userIdOf(res), req.params.sessionId as string);
    if (plan === null && job === null) throw new AppError('NOT_FOUND', 'no plan has been requested for this session');
    res.json({
      plan: plan && {
        id: plan.id,
        jobId: plan.jobId,
        content: plan.content,
        model: plan.model,
        inputTokens: plan.inputTokens,
        outputTokens: plan.outputTokens,
        costUsd: plan.costUsd,
        createdAt: plan.createdAt,
      },
      job: job && {
        id: job.id,
        status: job.status,
        attempts: job.attempts,
        error: job.error,
        planId: job.planId,
        createdAt: job.createdAt,
        updatedAt: job.updatedAt,
      },
    });
  });

  return router;
}
