/**
 * Attribute names this app writes, the one registry: stable semantic-convention names from
 * `@opentelemetry/semantic-conventions`, the conventions' unstable names (copied in
 * semconv.ts), and names of our own (here, each marked as such, under `renovation.*` where
 * no older name is already in use).
 */
export * from './semconv';
export {
  ATTR_HTTP_ROUTE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_ERROR_TYPE,
  ATTR_EXCEPTION_MESSAGE,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_NAMESPACE,
  ATTR_DB_SYSTEM_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_URL_SCHEME,
  ATTR_URL_QUERY,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';

/** ours: the `x-request-id` of the HTTP request (kept from the client when well-formed). */
export const ATTR_REQUEST_ID = 'request.id';
/** ours: which run of a job this is (1 = first; a retry or a run after its worker died counts up). */
export const ATTR_JOB_ATTEMPT = 'job.attempt';
/** ours: true when this run took over a job whose worker died (BullMQ's stalled-job recovery). */
export const ATTR_JOB_STALLED_RECOVERY = 'job.stalled_recovery';
/** BullMQ's telemetry (bullmq-otel) names: copied so the in-process queue's spans read as BullMQ's do. */
export const ATTR_BULLMQ_QUEUE_NAME = 'bullmq.queue.name';
export const ATTR_BULLMQ_JOB_NAME = 'bullmq.job.name';
export const ATTR_BULLMQ_JOB_ID = 'bullmq.job.id';

/**
 * Not in the conventions: the estimated cost of the call in USD. Langfuse's OTLP ingestion reads
 * `gen_ai.usage.cost` as the observation's total cost (and excludes it from the token counts it
 * builds from `gen_ai.usage.*`), so this one name is kept where that consumer looks for it.
 */
export const ATTR_GEN_AI_USAGE_COST = 'gen_ai.usage.cost';

/** ours: true on a model call or agent run that stopped because its caller cancelled it (client gone). */
export const ATTR_CANCELLED = 'renovation.cancelled';
/** ours: how many times the model call's HTTP request was sent again (429 waits and 5xx/network retries). */
export const ATTR_RETRY_COUNT = 'renovation.retry.count';
/** ours: the wait in seconds the provider last asked for with a 429 (Gemini's RetryInfo / Retry-After). */
export const ATTR_RETRY_AFTER = 'renovation.retry.after';
/** ours: event on the model span for each request sent again, with `error.type` and the wait. */
export const EVENT_RETRY = 'renovation.retry';
/** ours: which LangGraph node a node span runs, and at which step of the graph. */
export const ATTR_LANGGRAPH_NODE = 'renovation.langgraph.node';
export const ATTR_LANGGRAPH_STEP = 'renovation.langgraph.step';

/** ours: the Socket.io socket id of a connection or event span. */
export const ATTR_SOCKET_ID = 'socket.id';
/** ours: the Socket.io event name (also in `messaging.operation.name`, kept for existing queries). */
export const ATTR_SOCKET_EVENT = 'socket.io.event';
/** ours: why a trace was kept when the ratio would have dropped it (`forced`, `critical`, …). */
export const ATTR_SAMPLING_REASON = 'sampling.reason';
/** ours: how a run of a plan job ended: `completed`, `retried` (failed, another attempt follows) or `failed`. */
export const ATTR_RENOVATION_JOB_OUTCOME = 'renovation.job.outcome';
/** ours: the state of the jobs a queue-depth figure counts: `waiting`, `active`, `delayed`. */
export const ATTR_RENOVATION_JOB_STATE = 'renovation.job.state';
