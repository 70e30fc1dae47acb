import type { Context } from '@opentelemetry/api';
import { observePlanQueueDepth, outsideAnyTrace, traceInProcessJob, traceJobEnqueue } from '../telemetry/jobs';
import type { Logger } from '../utils/logger';
import type { PlanJobData, PlanJobHandlers } from './plan-job';
import { PLAN_JOB, PLAN_QUEUE, type PlanQueue, type RetryPolicy } from './plan-queue';
import { withDeadline } from '../utils/deadline';
import { toAgentError } from '../agent/errors';
import { reportError } from '../errors/report';

/**
 * Plan jobs without Redis: run in this process, with the same handlers, the same retry
 * policy and the same spans as BullMQ (`add renovation-plans.generate` → `process
 * renovation-plans`), so a trace reads the same either way. What differs is where the
 * work runs and that a job still waiting is lost if the process dies (no Redis to keep it).
 */
export function createInProcessPlanQueue({
  handlers,
  retry,
  logger,
}: {
  handlers: PlanJobHandlers;
  retry: RetryPolicy;
  logger: Logger;
}): PlanQueue {
  const running = new Set<Promise<void>>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  let waiting = 0;
  const stopObserving = observePlanQueueDepth(() => ({ waiting, active: running.size, delayed: timers.size }));

  function attempt(jobId: string, data: PlanJobData, number: number, producer: Context): void {
    if (closed) return;
    const job = { id: jobId, ...data, attempt: number };
    const retrying = () => number < retry.attempts && !closed;
    const run = { ...job, name: PLAN_JOB, queue: PLAN_QUEUE };
    const work = traceInProcessJob(producer, run, retrying, async () => {
      try {
        await handlers.run(job);
      } catch (error) {
        if (retrying()) {
          const delay = retry.backoffMs * 2 ** (number - 1);
          logger.warn({ err: error, jobId, attempt: number, retryInMs: delay }, 'plan job failed; retrying');
          const timer = setTimeout(() => {
            timers.delete(timer);
            attempt(jobId, data, number + 1, producer);
          }, delay);
          timers.add(timer);
        } else {
          reportError(logger, error, {
            message: 'plan job failed for good',
            fields: { jobId, attempts: number },
            toClientError: toAgentError,
            always: true,
          });
          await handlers
            .failed(job, error)
            .catch((failure: unknown) => logger.error({ err: failure, jobId }, 'could not record the failed plan job'));
        }
        throw error;
      }
    }).catch(() => undefined);
    running.add(work);
    void work.finally(() => running.delete(work));
  }

  return {
    mode: 'in-process',
    async enqueue(jobId, data) {
      const producer = traceJobEnqueue({ id: jobId, name: PLAN_JOB, queue: PLAN_QUEUE });
      // off the request: the job's work must not run in (or hold up) the HTTP request
      waiting += 1;
      setImmediate(() => {
        waiting -= 1;
        outsideAnyTrace(() => attempt(jobId, data, 1, producer));
      });
    },
    async close(deadline) {
      closed = true;
      stopObserving();
      for (const timer of timers) clearTimeout(timer);
      if (timers.size > 0)
        logger.warn(
          { waiting: timers.size },
          'plan jobs waiting for a retry are dropped at shutdown (no Redis to keep them)',
        );
      await withDeadline(Promise.allSettled([...running]), deadline);
    },
  };
}
