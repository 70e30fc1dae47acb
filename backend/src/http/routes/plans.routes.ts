import { randomUUID } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import type { PlanQueue } from '../../jobs/plan-queue';
import { AppError } from '../../errors/app-error';
import { userIdOf } from '../../middleware/auth.middleware';
import type { PlansService } from '../../services/plans.service';
import { sessionIdParam } from './sessions.routes';

/**
 * `POST /api/sessions/:sessionId/plan` → 202 {jobId}: the agent writes a renovation plan
 * in the background and the user's sockets get `plan:ready` (or `plan:failed`).
 * `GET /api/sessions/:sessionId/plan` → the latest plan and its job's state.
 */
export function plansRouter({ plans, queue, guard }: { plans: PlansService; queue: PlanQueue; guard: RequestHandler[] }): Router {
  const router = Router();

  router.post('/:sessionId/plan', ...guard, sessionIdParam, async (req, res) => {
    const userId = userIdOf(res);
    const sessionId = req.params.sessionId as string;
    const jobId = randomUUID();
    await plans.createJob(userId, sessionId, jobId);
    try {
      await queue.enqueue(jobId, { sessionId, userId });
    } catch (error) {
      await plans.markFailed(jobId, 0, 'SERVICE_UNAVAILABLE: the job queue was unavailable').catch(() => undefined);
      throw new AppError('SERVICE_UNAVAILABLE', 'the job queue is unavailable; try again shortly', { cause: error });
    }
    res.status(202).json({ jobId });
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
      job: job && { id: job.id, status: job.status, attempts: job.attempts, error: job.error, planId: job.planId, createdAt: job.createdAt, updatedAt: job.updatedAt },
    });
  });

  return router;
}
