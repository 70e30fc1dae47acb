/**
 * Attribute names this app writes. Stable semantic-convention names come from
 * `@opentelemetry/semantic-conventions`; names that are still "development" in the
 * conventions are copied here (as the contrib packages do) so an upstream rename
 * cannot silently change what we emit. Names of our own are marked as such.
 */
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
} from '@opentelemetry/semantic-conventions';

/** semconv (development): the authenticated user, the JWT `sub`. */
export const ATTR_ENDUSER_ID = 'enduser.id';
/** semconv (development). */
export const ATTR_DEPLOYMENT_ENVIRONMENT_NAME = 'deployment.environment.name';
/** semconv (development): an opaque id of the conversation; we use the renovation session id. */
export const ATTR_SESSION_ID = 'session.id';
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
