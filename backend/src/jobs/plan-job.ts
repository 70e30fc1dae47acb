import { toAgentError } from '../agent/errors';
import type { Agent } from '../agent/agent';
import type { Notifier } from '../realtime/notifier';
import type { ChatService } from '../services/chat.service';
import type { PlansService } from '../services/plans.service';

export const PLAN_REQUEST =
  'Write a renovation plan for this project: the phases in order, what each costs against the budget, and what to order early.';

export interface PlanJobData {
  sessionId: string;
  userId: string;
}

export interface PlanJobRun extends PlanJobData {
  id: string;
  /** 1 for the first run, 2 for the first retry (or a run after its worker died), … */
  attempt: number;
}

export interface PlanJobHandlers {
  /** Writes and stores the plan, then tells the user (`plan:ready`). Throws to be retried. */
  run(job: PlanJobRun): Promise<{ planId: string }>;
  /** After the last attempt failed: stores the error and tells the user (`plan:failed`). */
  failed(job: PlanJobRun, error: unknown): Promise<void>;
}

/** What a plan job does, wherever it runs (the worker, or the API process without Redis). */
export function createPlanJobHandlers({
  plans,
  chat,
  agent,
  notifier,
}: {
  plans: PlansService;
  chat: ChatService;
  agent: Agent;
  notifier: Notifier;
}): PlanJobHandlers {
  return {
    async run(job) {
      await plans.markActive(job.id, job.attempt);
      const history = await chat.history(job.sessionId);
      const reply = await agent.reply({
        sessionId: job.sessionId,
        userId: job.userId,
        history: [...history, { role: 'user', content: PLAN_REQUEST }],
      });
      const planId = await plans.storePlan(
        { jobId: job.id, sessionId: job.sessionId, userId: job.userId },
        {
          content: reply.content,
          model: reply.model,
          inputTokens: reply.usage.inputTokens,
          outputTokens: reply.usage.outputTokens,
          costUsd: reply.costUsd,
        },
      );
      notifier.notifyUser(job.userId, 'plan:ready', { sessionId: job.sessionId, planId, jobId: job.id });
      return { planId };
    },

    async failed(job, error) {
      // what the user may read (GET …/plan): the code and its generic message; the cause is in the log and the span
      const appError = toAgentError(error);
      await plans.markFailed(job.id, job.attempt, `${appError.code}: ${appError.message}`);
      notifier.notifyUser(job.userId, 'plan:failed', {
        sessionId: job.sessionId,
        jobId: job.id,
        code: appError.code,
        message: appError.message,
      });
    },
  };
}
