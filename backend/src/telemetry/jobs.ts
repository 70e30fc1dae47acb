import { ROOT_CONTEXT, SpanKind, context, trace, type Context } from '@opentelemetry/api';
import { BullMQOtel } from 'bullmq-otel';
import {
  ATTR_BULLMQ_JOB_ID,
  ATTR_BULLMQ_JOB_NAME,
  ATTR_BULLMQ_QUEUE_NAME,
  ATTR_ENDUSER_ID,
  ATTR_JOB_ATTEMPT,
  ATTR_JOB_STALLED_RECOVERY,
  ATTR_SESSION_ID,
} from './attributes';
import { recordPlanJob } from './metrics/instruments';
import { annotateActiveSpan, endSpan, errorType, recordActiveError } from './span';
import { TRACER_PREFIX, tracerFor } from './tracer';

/**
 * Runs `fn` outside any trace: for what must not inherit the caller's context (a worker's
 * polling loop built during start-up, a job's run started from inside an HTTP request).
 */
export function outsideAnyTrace<T>(fn: () => T): T {
  return context.with(ROOT_CONTEXT, fn);
}

/** The queue-depth gauge (waiting, active, delayed), observed while the queue is open. */
export { observePlanQueueDepth } from './metrics/instruments';

/** BullMQ's own tracing adapter, through the OpenTelemetry API (a no-op when tracing is off). */
export type QueueTelemetry = BullMQOtel;

export function bullmqTelemetry(): QueueTelemetry {
  return new BullMQOtel({ tracerName: `${TRACER_PREFIX}/bullmq` });
}

/** One run of a job, as the tracing wrappers see it. */
export interface TracedJobRun {
  id: string;
  name: string;
  queue: string;
  attempt: number;
  sessionId: string;
  userId: string;
}

export type JobTransport = 'in-process' | 'bullmq';

interface RunOptions {
  transport: JobTransport;
  /** Asked after a failure: will this job run again? (`retried` rather than `failed` in the metric.) */
  willRetry: () => boolean;
}

/** Runs `work`, counting it in the plan-job metric by outcome; every run counts, sampled or not. */
async function measured<T>(work: () => Promise<T>, { transport, willRetry }: RunOptions): Promise<T> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  try {
    const result = await work();
    recordPlanJob(seconds(), 'completed', transport);
    return result;
  } catch (error) {
    recordPlanJob(seconds(), willRetry() ? 'retried' : 'failed', transport, errorType(error));
    throw error;
  }
}

const tracer = tracerFor('jobs');

/**
 * The PRODUCER span of a job queued in this process (`add <queue>.<job>`), named and
 * attributed as BullMQ's own telemetry names it, so a trace reads the same with or without
 * Redis. Returns the context the job's run continues from.
 */
export function traceJobEnqueue(job: Pick<TracedJobRun, 'id' | 'name' | 'queue'>): Context {
  const span = tracer.startSpan(`add ${job.queue}.${job.name}`, {
    kind: SpanKind.PRODUCER,
    attributes: { [ATTR_BULLMQ_QUEUE_NAME]: job.queue, [ATTR_BULLMQ_JOB_NAME]: job.name, [ATTR_BULLMQ_JOB_ID]: job.id },
  });
  const producer = trace.setSpan(context.active(), span);
  endSpan(span);
  return producer;
}

/**
 * One run of a job queued in this process: a `process <queue>` CONSUMER span, a child of
 * its `add` span, active while `work` runs (so what it does and logs hangs below it), ERROR
 * when `work` throws; the error is rethrown.
 */
export function traceInProcessJob<T>(
  producer: Context,
  run: TracedJobRun,
  willRetry: () => boolean,
  work: () => Promise<T>,
): Promise<T> {
  return context.with(producer, async () => {
    const span = tracer.startSpan(`process ${run.queue}`, {
      kind: SpanKind.CONSUMER,
      attributes: {
        [ATTR_BULLMQ_QUEUE_NAME]: run.queue,
        [ATTR_BULLMQ_JOB_ID]: run.id,
        [ATTR_BULLMQ_JOB_NAME]: run.name,
        [ATTR_JOB_ATTEMPT]: run.attempt,
        [ATTR_SESSION_ID]: run.sessionId,
        [ATTR_ENDUSER_ID]: run.userId,
      },
    });
    return context.with(trace.setSpan(context.active(), span), async () => {
      try {
        const result = await measured(work, { transport: 'in-process', willRetry });
        endSpan(span);
        return result;
      } catch (error) {
        endSpan(span, error);
        throw error;
      }
    });
  });
}

/**
 * One run of a BullMQ job, inside the `process <queue>` span BullMQ's telemetry started:
 * adds which attempt it is (and whether it took over from a dead worker), and marks the
 * span ERROR on failure (BullMQ records only an event); the error is rethrown.
 */
export async function traceBullmqJob<T>(
  run: TracedJobRun & { stalledRecovery: boolean },
  willRetry: () => boolean,
  work: () => Promise<T>,
): Promise<T> {
  annotateActiveSpan({
    [ATTR_JOB_ATTEMPT]: run.attempt,
    [ATTR_JOB_STALLED_RECOVERY]: run.stalledRecovery,
    [ATTR_SESSION_ID]: run.sessionId,
    [ATTR_ENDUSER_ID]: run.userId,
  });
  try {
    return await measured(work, { transport: 'bullmq', willRetry });
  } catch (error) {
    recordActiveError(error);
    throw error;
  }
}
