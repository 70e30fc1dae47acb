import { Queue, type ConnectionOptions } from 'bullmq';
import type { BullMQOtel } from 'bullmq-otel';
import type { PlanJobData } from './plan-job';

export const PLAN_QUEUE = 'renovation-plans';
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
  telemetry: BullMQOtel;
  retry: RetryPolicy;
}): PlanQueue {
  const queue = new Queue<PlanJobData>(PLAN_QUEUE, { connection, prefix, telemetry });
  return {
    mode: 'redis',
    async enqueue(jobId, data) {
      await queue.add(PLAN_JOB, data, {
        jobId,
        attempts: retry.attempts,
        backoff: { type: 'exponential', delay: retry.backoffMs },
        removeOnComplete: { age: 24 * 3600, count: 1_000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      });
    },
    close: () => queue.close(),
  };
}
