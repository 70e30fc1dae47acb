import { context, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { RPCType, getRPCMetadata } from '@opentelemetry/core';
import { toSafeError } from '../errors/safe-error';
import { ATTR_ERROR_TYPE } from './attributes';
import { tracingFailed } from './failure';

/** A low-cardinality `error.type`: an explicit code, else the error's class name. */
export function errorType(error: unknown): string {
  if (error && typeof error === 'object') {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.length <= 64) return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name !== 'Error') return name;
  }
  return 'Error';
}

/** Marks a span failed: exception event, ERROR status, `error.type`. Never throws. */
export function recordError(span: Span, error: unknown): void {
  try {
    const safe = toSafeError(error);
    const err = safe instanceof Error ? safe : new Error(String(safe));
    span.recordException(err);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
    span.setAttribute(ATTR_ERROR_TYPE, errorType(error));
  } catch (failure) {
    tracingFailed('recordError', failure);
  }
}

/** Ends a span, recording `error` first when given: the one way our spans end. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) recordError(span, error);
  span.end();
}

/**
 * The HTTP server span of the current request, wherever we are below it (the express
 * instrumentation may have made a handler span the active one).
 */
export function serverSpan(ctx = context.active()): Span | undefined {
  return getRPCMetadata(ctx)?.span ?? trace.getSpan(ctx);
}

/** Adds attributes to the current request's server span; a no-op outside a request. */
export function annotateServerSpan(attributes: Attributes): void {
  try {
    serverSpan()?.setAttributes(attributes);
  } catch (failure) {
    tracingFailed('annotateServerSpan', failure);
  }
}

/** The 32-hex trace id of the active context, or undefined when there is none. */
export function activeTraceId(ctx = context.active()): string | undefined {
  const spanContext = trace.getSpan(ctx)?.spanContext();
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/**
 * Names the current HTTP request's route (`/api/sessions/:sessionId`): the HTTP
 * instrumentation then sets `http.route` and names the server span `GET /api/...`.
 */
export function setHttpRoute(route: string, ctx = context.active()): void {
  const metadata = getRPCMetadata(ctx);
  if (metadata?.type === RPCType.HTTP) metadata.route = route;
}

/** Adds attributes to the active span (a job's process span, say); a no-op without one. */
export function annotateActiveSpan(attributes: Attributes): void {
  try {
    trace.getActiveSpan()?.setAttributes(attributes);
  } catch (failure) {
    tracingFailed('annotateActiveSpan', failure);
  }
}

/** Marks the active span failed (exception event, ERROR, error.type). */
export function recordActiveError(error: unknown): void {
  const span = trace.getActiveSpan();
  if (span !== undefined) recordError(span, error);
}
