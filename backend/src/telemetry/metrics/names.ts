/**
 * Metric names. Semantic-convention names where one
 * exists (copied, as the contrib packages do, because they are still "development"); ours
 * under `renovation.` where none does.
 */
export const METRIC_HTTP_SERVER_REQUEST_DURATION = 'http.server.request.duration';
export const METRIC_DB_CLIENT_OPERATION_DURATION = 'db.client.operation.duration';
export const METRIC_GEN_AI_CLIENT_OPERATION_DURATION = 'gen_ai.client.operation.duration';
export const METRIC_GEN_AI_CLIENT_TOKEN_USAGE = 'gen_ai.client.token.usage';
export const METRIC_GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK = 'gen_ai.client.operation.time_to_first_chunk';
export const METRIC_MESSAGING_PROCESS_DURATION = 'messaging.process.duration';
export const METRIC_OTEL_SDK_EXPORTER_SPAN_EXPORTED = 'otel.sdk.exporter.span.exported';

/** ours: estimated cost of model calls, in US dollars, from the price table. */
export const METRIC_RENOVATION_GEN_AI_COST = 'renovation.gen_ai.cost';
/** ours: Socket.io connections open now. */
export const METRIC_RENOVATION_SOCKETIO_CONNECTIONS = 'renovation.socketio.connections';
/** ours: how long one run of a plan job took, by outcome. */
export const METRIC_RENOVATION_PLAN_JOB_DURATION = 'renovation.plan_job.duration';
/** ours: plan jobs waiting, running or delayed now. */
export const METRIC_RENOVATION_PLAN_JOB_QUEUE_DEPTH = 'renovation.plan_job.queue.depth';

/** The attribute names the metrics use, from the one registry (attributes.ts). */
export { ATTR_GEN_AI_TOKEN_TYPE, ATTR_RENOVATION_JOB_OUTCOME, ATTR_RENOVATION_JOB_STATE } from '../attributes';

/** Bucket boundaries, as the conventions advise for each (seconds; tokens). */
export const BUCKETS = {
  httpDuration: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
  genAiDuration: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92],
  tokens: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304],
  jobDuration: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
  /** instrumentation-pg's own, so that its measurements and ours share buckets */
  dbDuration: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
} as const;
