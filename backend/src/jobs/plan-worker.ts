import { Job, Queue, Worker, type ConnectionOptions } from 'bullmq';
import { outsideAnyTrace, traceBullmqJob, type QueueTelemetry } from '../telemetry/jobs';
import type { Logger } from '../utils/logger';
import type { PlanJobData, PlanJobHandlers, PlanJobRun } from './plan-job';
import { PLAN_JOB, PLAN_QUEUE } from './plan-queue';
import { TIMED_OUT, withDeadline } from '../utils/deadline';
import { toAgentError } from '../agent/errors';
import { reportError } from '../errors/report';

export interface PlanWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  telemetry: QueueTelemetry;
  handlers: PlanJobHandlers;
  logger: Logger;
  concurrency: number;
  /** A dead worker's job is taken over about this long after it last renewed its lock. */
  lockDurationMs: number;
  stalledIntervalMs: number;
}

function runOf(job: Job<PlanJobData>): PlanJobRun {
  // attemptsStarted counts a run whose worker died too; attemptsMade only finished runs
  const attempt = Math.max(job.attemptsStarted ?? 0, job.attemptsMade + 1);
  return { id: job.id!, sessionId: job.data.sessionId, userId: job.data.userId, attempt };
}

/**
 * The BullMQ worker for plan jobs. Its `process renovation-plans` span (BullMQ's own
 * telemetry, a child of the request's `add` span) is the active context while a job
 * runs, so the agent, SQL and the `plan:ready` delivery hang below it (telemetry/jobs.ts
 * adds the attempt and the failure to it). A job whose worker died is taken over by the
 * stalled-job checker and runs again.
 */
export function createPlanWorker({
  connection,
  prefix,
  telemetry,
  handlers,
  logger,
  concurrency,
  lockDurationMs,
  stalledIntervalMs,
}: PlanWorkerOptions) {
  // Constructed outside any trace: the worker's polling loop inherits the context it is built in.
  const worker = outsideAnyTrace(
    () =>
      new Worker<PlanJobData>(
        PLAN_QUEUE,
        async (job) => {
          const run = runOf(job);
          const traced = { ...run, name: PLAN_JOB, queue: PLAN_QUEUE, stalledRecovery: (job.stalledCounter ?? 0) > 0 };
          return traceBullmqJob(
            traced,
            () => run.attempt < (job.opts.attempts ?? 1),
            () => handlers.run(run),
          );
        },
        {
          connection,
          prefix,
          telemetry,
          concurrency,
          lockDuration: lockDurationMs,
          stalledInterval: stalledIntervalMs,
          maxStalledCount: 2,
        },
      ),
  );

  // Failure reports still being written, so shutdown can wait for them.
  const reporting = new Set<Promise<void>>();
  const reportFailure = (job: Job<PlanJobData>, error: unknown) => {
    // by now the failed run is counted in attemptsMade
    const run = { ...runOf(job), attempt: Math.max(job.attemptsStarted ?? 0, job.attemptsMade) };
    reportError(logger, error, {
      message: 'plan job failed for good',
      fields: { jobId: job.id, attempts: run.attempt },
      toClientError: toAgentError,
      always: true,
    });
    const report = handlers
      .failed(run, error)
      .catch((failure: unknown) =>
        logger.error({ err: failure, jobId: job.id }, 'could not record the failed plan job'),
      );
    reporting.add(report);
    void report.finally(() => reporting.delete(report));
  };

  worker.on('failed', (job, error) => {
    if (!job) return;
    // 'failed' fires after every failed attempt; finishedOn is set only after the last
    if (job.finishedOn === undefined) {
      logger.warn(
        { err: error, jobId: job.id, attempt: job.attemptsMade, attempts: job.opts.attempts },
        'plan job failed; BullMQ will retry it',
      );
      return;
    }
    reportFailure(job, error);
  });

  // A job that stalls more than maxStalledCount times is failed inside BullMQ's Redis
  // script, with no 'failed' event: the worker whose check found it reports it here.
  const lookup = new Queue<PlanJobData>(PLAN_QUEUE, { connection, prefix });
  worker.on('stalled', (jobId) => {
    logger.warn({ jobId }, 'plan job stalled (its worker died or hung)');
    void Job.fromId<PlanJobData>(lookup, jobId)
      .then(async (job) => {
        if (job && (await job.isFailed()))
          reportFailure(job, new Error(job.failedReason || 'the job stalled too many times'));
      })
      .catch((error: unknown) => logger.warn({ err: error, jobId }, 'could not look up a stalled plan job'));
  });
  worker.on('error', (error) => logger.error({ err: error }, 'plan worker error'));

  return {
    worker,
    waitUntilReady: () => worker.waitUntilReady(),
    /**
     * Stops taking jobs and waits for the running ones until `deadline`; past it they are
     * left to another worker (their lock expires and the stalled-job check takes over).
     */
    async close(deadline: number): Promise<{ abandoned: boolean }> {
      const closing = worker.close();
      const outcome = await withDeadline(closing, deadline);
      await withDeadline(Promise.allSettled([...reporting]), deadline);
      await lookup.close().catch(() => undefined);
      return { abandoned: outcome === TIMED_OUT };
    },
  };
}
