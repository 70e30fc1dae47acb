import { context, trace, type Context } from '@opentelemetry/api';
import { getRequestId } from './request-id';

/**
 * Trace correlation for every log line: written while a span is active, a line
 * carries `trace_id`, `span_id` and `trace_flags` (the names the OpenTelemetry log
 * data model and Grafana/Datadog/Honeycomb log-trace links expect) and the request id.
 * Outside any span it adds nothing, so no line carries an empty id. A field the caller
 * passes wins over the mixin (pino merges the call's object last).
 */
export function traceContextMixin(ctx: Context = context.active()): Record<string, string> {
  const fields: Record<string, string> = {};
  const spanContext = trace.getSpan(ctx)?.spanContext();
  if (spanContext !== undefined && trace.isSpanContextValid(spanContext)) {
    fields.trace_id = spanContext.traceId;
    fields.span_id = spanContext.spanId;
    fields.trace_flags = spanContext.traceFlags.toString(16).padStart(2, '0');
  }
  const requestId = getRequestId(ctx);
  if (requestId !== undefined) fields.request_id = requestId;
  return fields;
}
