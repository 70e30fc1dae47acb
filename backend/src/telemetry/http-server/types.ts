import type { IncomingMessage } from 'node:http';
import type { Span } from '@opentelemetry/api';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';

export interface HttpServerInstrumentationConfig extends InstrumentationConfig {
  /**
   * Requests served without a span and with tracing suppressed below them (health probes,
   * an in-process helper server). Called first, before any other work; must be cheap.
   */
  ignoreIncomingRequestHook?: (request: IncomingMessage) => boolean;
  /**
   * Query parameters (exact names) whose values `url.query` shows as `REDACTED`. Only
   * sampled requests build `url.query` at all.
   */
  redactedQueryParams?: readonly string[];
  /**
   * Called with a sampled request's span once it has started, with the request's context
   * active (the propagated baggage, request id, ...). Never called for unsampled requests.
   */
  requestHook?: (span: Span, request: IncomingMessage) => void;
}
