import { randomUUID } from 'node:crypto';
import {
  context,
  createContextKey,
  type Context,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';

/**
 * The request id rides on the OpenTelemetry context, not on an AsyncLocalStorage of our
 * own: one context to propagate instead of two that can disagree across callbacks. It enters through a propagator: the HTTP
 * instrumentation builds every request's context with `propagation.extract()`, so the
 * id is in the context before the server span starts and follows the request into
 * every callback the instrumentation binds (body parsing, response events, pg).
 */
export const REQUEST_ID_HEADER = 'x-request-id';

const REQUEST_ID_KEY = createContextKey('renovation-agent.request-id');
// Ids are echoed into headers and logs, so only a conservative alphabet is accepted.
const VALID_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export function isValidRequestId(value: unknown): value is string {
  return typeof value === 'string' && VALID_REQUEST_ID.test(value);
}

/** The incoming id when it is well-formed, otherwise a new one. */
export function resolveRequestId(incoming: string | string[] | undefined): string {
  const candidate = Array.isArray(incoming) ? incoming[0] : incoming;
  return isValidRequestId(candidate) ? candidate : randomUUID();
}

export function getRequestId(ctx: Context = context.active()): string | undefined {
  return ctx.getValue(REQUEST_ID_KEY) as string | undefined;
}

export function setRequestId(ctx: Context, requestId: string): Context {
  return ctx.setValue(REQUEST_ID_KEY, requestId);
}

export class RequestIdPropagator implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const requestId = getRequestId(ctx);
    if (requestId !== undefined) setter.set(carrier, REQUEST_ID_HEADER, requestId);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    if (getRequestId(ctx) !== undefined) return ctx;
    return setRequestId(ctx, resolveRequestId(getter.get(carrier, REQUEST_ID_HEADER)));
  }

  fields(): string[] {
    return [REQUEST_ID_HEADER];
  }
}
