import {
  metrics,
  ValueType,
  type Attributes,
  type Counter,
  type Histogram,
  type MeterProvider,
  type UpDownCounter,
} from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_SYSTEM,
  MESSAGING_SYSTEM_SOCKETIO,
} from '../attributes';
import { tracingFailed } from '../failure';
import * as names from './names';
import { TRACER_PREFIX } from '../tracer';

const METER = TRACER_PREFIX;

interface Instruments {
  genAiDuration: Histogram;
  genAiTokens: Histogram;
  genAiFirstChunk: Histogram;
  genAiCost: Counter;
  socketConnections: UpDownCounter;
  messagingProcess: Histogram;
  planJobDuration: Histogram;
  dbOperation: Histogram;
  spansExported: Counter;
}

let built: { provider: MeterProvider; instruments: Instruments } | undefined;

/**
 * The app's own instruments, made on first use from whichever meter provider is global then
 * (a no-op one when metrics are off), and made again if that changes (tests install their own).
 */
function instruments(): Instruments {
  const provider = metrics.getMeterProvider();
  if (built?.provider === provider) return built.instruments;
  const meter = provider.getMeter(METER);
  const seconds = (name: string, description: string, boundaries: readonly number[]) =>
    meter.createHistogram(name, { description, unit: 's', advice: { explicitBucketBoundaries: [...boundaries] } });
  const made: Instruments = {
    genAiDuration: seconds(
      names.METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
      'GenAI operation duration.',
      names.BUCKETS.genAiDuration,
    ),
    genAiTokens: meter.createHistogram(names.METRIC_GEN_AI_CLIENT_TOKEN_USAGE, {
      description: 'Number of input and output tokens used.',
      unit: '{token}',
      valueType: ValueType.INT,
      advice: { explicitBucketBoundaries: [...names.BUCKETS.tokens] },
    }),
    genAiFirstChunk: seconds(
      names.METRIC_GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK,
      'Time to receive the first chunk of a streamed response.',
      names.BUCKETS.genAiDuration,
    ),
    genAiCost: meter.createCounter(names.METRIC_RENOVATION_GEN_AI_COST, {
      description: 'Estimated cost of model calls, from the price table.',
      unit: '{USD}',
    }),
    socketConnections: meter.createUpDownCounter(names.METRIC_RENOVATION_SOCKETIO_CONNECTIONS, {
      description: 'Socket.io connections open now.',
      unit: '{connection}',
      valueType: ValueType.INT,
    }),
    messagingProcess: seconds(
      names.METRIC_MESSAGING_PROCESS_DURATION,
      'Duration of processing one Socket.io event.',
      names.BUCKETS.httpDuration,
    ),
    planJobDuration: seconds(
      names.METRIC_RENOVATION_PLAN_JOB_DURATION,
      'Duration of one run of a plan job.',
      names.BUCKETS.jobDuration,
    ),
    dbOperation: seconds(
      names.METRIC_DB_CLIENT_OPERATION_DURATION,
      'Duration of database client operations.',
      names.BUCKETS.dbDuration,
    ),
    spansExported: meter.createCounter(names.METRIC_OTEL_SDK_EXPORTER_SPAN_EXPORTED, {
      description: 'Spans that left the process, or (with error.type) were dropped or lost.',
      unit: '{span}',
      valueType: ValueType.INT,
    }),
  };
  built = { provider, instruments: made };
  return made;
}

/** Runs a recording; a metrics failure is reported once and never reaches the caller. */
function safely(where: string, record: (instruments: Instruments) => void): void {
  try {
    record(instruments());
  } catch (failure) {
    tracingFailed(where, failure);
  }
}

export interface ModelCallMeasurement {
  /** The conventions' attributes every GenAI metric carries (operation, provider, models, server, error.type). */
  attributes: Attributes;
  /** Undefined for a call that did not end on its own (cancelled): its time says nothing of the model. */
  durationS?: number | undefined;
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
  timeToFirstChunkS?: number | undefined;
  costUsd?: number | undefined;
}

/** One model call: duration, tokens by type, time to first chunk, estimated cost. */
export function recordModelCall(measurement: ModelCallMeasurement): void {
  safely('recordModelCall', (m) => {
    const { attributes } = measurement;
    if (measurement.durationS !== undefined) m.genAiDuration.record(measurement.durationS, attributes);
    if (measurement.inputTokens !== undefined)
      m.genAiTokens.record(measurement.inputTokens, { ...attributes, [names.ATTR_GEN_AI_TOKEN_TYPE]: 'input' });
    if (measurement.outputTokens !== undefined)
      m.genAiTokens.record(measurement.outputTokens, { ...attributes, [names.ATTR_GEN_AI_TOKEN_TYPE]: 'output' });
    if (measurement.timeToFirstChunkS !== undefined)
      m.genAiFirstChunk.record(measurement.timeToFirstChunkS, attributes);
    if (measurement.costUsd !== undefined && measurement.costUsd > 0) m.genAiCost.add(measurement.costUsd, attributes);
  });
}

/**
 * A query that instrumentation-pg did not see (its trace is not sampled): recorded here with the
 * attributes and buckets the instrumentation uses for the queries it does see, so the metric
 * counts every query once.
 */
export function recordDbOperation(durationS: number, attributes: Attributes): void {
  safely('recordDbOperation', (m) => m.dbOperation.record(durationS, attributes));
}

/** A Socket.io connection opened (+1) or closed (-1). */
export function countSocketConnection(delta: 1 | -1): void {
  safely('countSocketConnection', (m) => m.socketConnections.add(delta));
}

/** One Socket.io event handled: `error.type` when it failed. */
export function recordSocketEvent(event: string, durationS: number, errorType?: string): void {
  safely('recordSocketEvent', (m) =>
    m.messagingProcess.record(durationS, {
      [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_SOCKETIO,
      [ATTR_MESSAGING_OPERATION_NAME]: event,
      ...(errorType !== undefined ? { [ATTR_ERROR_TYPE]: errorType } : {}),
    }),
  );
}

/** One run of a plan job and how it ended. */
export function recordPlanJob(
  durationS: number,
  outcome: 'completed' | 'retried' | 'failed',
  system: 'bullmq' | 'in-process',
  errorType?: string,
): void {
  safely('recordPlanJob', (m) =>
    m.planJobDuration.record(durationS, {
      [names.ATTR_RENOVATION_JOB_OUTCOME]: outcome,
      [ATTR_MESSAGING_SYSTEM]: system,
      ...(errorType !== undefined ? { [ATTR_ERROR_TYPE]: errorType } : {}),
    }),
  );
}

/** Reports plan jobs by state whenever metrics are collected. Returns the unregister function. */
export function observePlanQueueDepth(
  read: () =>
    | Promise<Partial<Record<'waiting' | 'active' | 'delayed', number>>>
    | Partial<Record<'waiting' | 'active' | 'delayed', number>>,
): () => void {
  try {
    const gauge = metrics.getMeter(METER).createObservableGauge(names.METRIC_RENOVATION_PLAN_JOB_QUEUE_DEPTH, {
      description: 'Plan jobs waiting, running or delayed now.',
      unit: '{job}',
      valueType: ValueType.INT,
    });
    const callback = async (result: { observe(value: number, attributes: Attributes): void }) => {
      try {
        const counts = await read();
        for (const [state, value] of Object.entries(counts))
          result.observe(value ?? 0, { [names.ATTR_RENOVATION_JOB_STATE]: state });
      } catch (failure) {
        tracingFailed('observePlanQueueDepth', failure);
      }
    };
    gauge.addCallback(callback);
    return () => gauge.removeCallback(callback);
  } catch (failure) {
    tracingFailed('observePlanQueueDepth', failure);
    return () => undefined;
  }
}

/** Spans delivered (no error type) or dropped/lost (`queue_full`, `buffer_full`, `rejected`, `shutdown`). */
export function countSpansExported(count: number, errorType?: string): void {
  if (count <= 0) return;
  safely('countSpansExported', (m) =>
    m.spansExported.add(count, errorType !== undefined ? { [ATTR_ERROR_TYPE]: errorType } : {}),
  );
}
