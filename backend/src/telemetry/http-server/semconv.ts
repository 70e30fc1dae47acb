/**
 * The semantic-convention names this instrumentation writes (HTTP server spans and the
 * `http.server.request.duration` metric, semconv 1.2x stable). Stable names come from
 * `@opentelemetry/semantic-conventions`, as upstream's instrumentation-http takes them.
 */
export {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_USER_AGENT_ORIGINAL,
  METRIC_HTTP_SERVER_REQUEST_DURATION,
} from '@opentelemetry/semantic-conventions';

/** The methods the conventions know; any other is recorded as `_OTHER` (with the original beside it on spans). */
export const KNOWN_METHODS = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'QUERY',
  'TRACE',
]);

/** `error.type` of a request whose client went away before a response was sent (no status code to report). */
export const ERROR_TYPE_ABORTED = 'aborted';

/** The bucket boundaries (s) the conventions advise for `http.server.request.duration`. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
