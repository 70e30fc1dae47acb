import { ROOT_CONTEXT, SpanKind, context, trace, type Context } from '@opentelemetry/api';
import { ATTR_ENDUSER_ID, ATTR_JOB_ATTEMPT, ATTR_SESSION_ID, endSpan, errorType, observePlanQueueDepth, recordPlanJob } from '../telemetry';
import type { Logger } from '../utils/logger';
import type { PlanJobData, PlanJobHandlers } from './plan-job';
import { PLAN_JOB, PLAN_QUEUE, type PlanQueue, type RetryPolicy } from './plan-queue';

const tracer = trace.getTracer('renovation-agent-backend/jobs');

/**
 * Plan jobs without Redis: run in this process, with the same handlers, the same retry
 * policy and the same spans as BullMQ (`add renovation-plans.generate` → `process
 * renovation-plans`), so a trace reads the same either way. What differs is where the
 * work runs and that a job still waiting is lost if the process dies (no Redis to keep it).
 */
export function createInProcessPlanQueue({ handlers, retry, logger }: { handlers: PlanJobHandlers; retry: RetryPolicy; logger: Logger }): PlanQueue {
  const running = new Set<Promise<void>>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  let waiting = 0;
  const stopObserving = observePlanQueueDepth(() => ({ waiting, active: running.size, delayed: timers.size }));

  function attempt(jobId: string, data: PlanJobData, number: number, producer: Context): void {
    if (closed) return;
    const work = context.with(producer, async () => {
      const span = tracer.startSpan(`process ${PLAN_QUEUE}`, {
        kind: SpanKind.CONSUMER,
        attributes: {
          'bullmq.queue.name': PLAN_QUEUE,
          'bullmq.job.id': jobId,
          'bullmq.job.name': PLAN_JOB,
          [ATTR_JOB_ATTEMPT]: number,
          [ATTR_SESSION_ID]: data.sessionId,
          [ATTR_ENDUSER_ID]: data.userId,
        },
      });
      const job = { id: jobId, ...data, attempt: number };
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      await context.with(trace.setSpan(context.active(), span), async () => {
        try {
          await handlers.run(job);
          recordPlanJob(seconds(), 'completed', 'in-process');
          endSpan(span);
        } catch (error) {
          const retrying = number < retry.attempts && !closed;
          recordPlanJob(seconds(), retrying ? 'retried' : 'failed', 'in-process', errorType(error));
          if (retrying) {
            const delay = retry.backoffMs * 2 ** (number - 1);
            logger.warn({ err: error, jobId, attempt: number, retryInMs: delay }, 'plan job failed; retrying');
            const timer = setTimeout(() => {
              timers.delete(timer);
              attempt(jobId, data, number + 1, producer);
            }, delay);
            timers.add(timer);
          } else {
            logger.error({ err: error, jobId, attempts: number }, 'plan job failed for good');
            await handlers.failed(job, error).catch((failure: unknown) => logger.error({ err: failure, jobId }, 'could not record the failed plan job'));
          }
          endSpan(span, error);
        }
      });
    });
    running.add(work);
    void work.finally(() => running.delete(work));
  }

  return {
    mode: 'in-process',
    async enqueue(jobId, data) {
      const span = tracer.startSpan(`add ${PLAN_QUEUE}.${PLAN_JOB}`, {
        kind: SpanKind.PRODUCER,
        attributes: { 'bullmq.queue.name': PLAN_QUEUE, 'bullmq.job.name': PLAN_JOB, 'bullmq.job.id': jobId },
      });
      const producer = trace.setSpan(context.active(), span);
      endSpan(span);
      // off the request: the job's work must not run in (or hold up) the HTTP request
      waiting += 1;
      setImmediate(() => {
        waiting -= 1;
        context.with(ROOT_CONTEXT, () => attempt(jobId, data, 1, producer));
      });
    },
    async close(deadline) {
      closed = true;
      stopObserving();
      for (const timer of timers) clearTimeout(timer);
      if (timers.size > 0) logger.warn({ waiting: timers.size }, 'plan jobs waiting for a retry are dropped at shutdown (no Redis to keep them)');
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref());
      await Promise.race([Promise.allSettled([...running]), timeout]);
    },
  };
}
