import { Queue, type ConnectionOptions } from 'bullmq';
import { observePlanQueueDepth, type QueueTelemetry } from '../telemetry/jobs';
import type { PlanJobData } from './plan-job';
import { TIMED_OUT, withDeadline } from '../utils/deadline';

export const PLAN_QUEUE = 'renovation-plans';
/** BullMQ waits for Redis without limit; a request must not. */
const ENQUEUE_TIMEOUT_MS = 3_000;
export const PLAN_JOB = 'generate';

export interface RetryPolicy {
  attempts: number;
  /** First retry delay; doubles with each attempt. */
  backoffMs: number;
}

/** Where plan jobs go: BullMQ on Redis, or (without Redis) this process. */
export interface PlanQueue {
  readonly mode: 'redis' | 'in-process';
  enqueue(jobId: string, data: PlanJobData): Promise<void>;
  /** Stops taking jobs; waits for running ones until `deadline` (epoch ms). */
  close(deadline: number): Promise<void>;
}

/** BullMQ with its built-in telemetry: `add renovation-plans.generate` spans whose context the job carries to the worker. */
export function createRedisPlanQueue({
  connection,
  prefix,
  telemetry,
  retry,
}: {
  connection: ConnectionOptions;
  prefix: string;
  telemetry: QueueTelemetry;
  retry: RetryPolicy;
}): PlanQueue {
  const queue = new Queue<PlanJobData>(PLAN_QUEUE, { connection, prefix, telemetry });
  // read from Redis when metrics are collected: every instance reports the same queue (dashboards take the max)
  const stopObserving = observePlanQueueDepth(() => queue.getJobCounts('waiting', 'active', 'delayed'));
  return {
    mode: 'redis',
    async enqueue(jobId, data) {
      const added = queue.add(PLAN_JOB, data, {
        jobId,
        attempts: retry.attempts,
        backoff: { type: 'exponential', delay: retry.backoffMs },
        removeOnComplete: { age: 24 * 3600, count: 1_000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      });
      if ((await withDeadline(added, Date.now() + ENQUEUE_TIMEOUT_MS)) === TIMED_OUT) {
        throw new Error(`Redis did not take the job within ${ENQUEUE_TIMEOUT_MS} ms`);
      }
    },
    close: () => {
      stopObserving();
      return queue.close();
    },
  };
}
