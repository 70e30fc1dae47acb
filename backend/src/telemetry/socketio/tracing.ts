import {
  ROOT_CONTEXT,
  SpanKind,
  context,
  propagation,
  trace,
  type Attributes,
  type Context,
  type SpanContext,
} from '@opentelemetry/api';
import type { Socket } from 'socket.io';
import { isAppError } from '../../errors/app-error';
import {
  ATTR_ENDUSER_ID,
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_SESSION_ID,
  ATTR_SOCKET_EVENT,
  ATTR_SOCKET_ID,
  MESSAGING_SYSTEM_SOCKETIO,
  countSocketConnection,
  endSpan,
  errorType,
  isValidTraceId,
  recordSocketEvent,
  tracingFailed,
  withPinnedTraceId,
} from '..';
import { tracerFor } from '../tracer';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface SocketTrace {
  /** Where event spans start: the connection span inside the client's trace, or none. */
  parent: Context | undefined;
  /** The handshake's context without a span (it carries the connection's request id). */
  base: Context;
  /** The connection span, linked from events that start their own trace. */
  connection: SpanContext;
  userId: string | undefined;
}

const traces = new WeakMap<Socket, SocketTrace>();
const tracer = tracerFor('socket.io');

function header(socket: Socket, name: string): string | undefined {
  const value = socket.handshake.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The client's trace context from the handshake: W3C `traceparent`/`tracestate` headers,
 * or `auth.traceparent`/`auth.tracestate` (browsers cannot set WebSocket headers), and
 * `x-force-sample` the same two ways: events of a forced connection are forced.
 */
function extractHandshake(socket: Socket): Context {
  const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
  const carrier: Record<string, string> = {};
  for (const name of ['traceparent', 'tracestate', 'baggage', 'x-request-id', 'x-force-sample']) {
    const value = header(socket, name) ?? (typeof auth[name] === 'string' ? (auth[name] as string) : undefined);
    if (value !== undefined) carrier[name] = value;
  }
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/**
 * Tracing for Socket.io, which the contrib instrumentation does not do usefully (it
 * propagates no context at all, so it is not loaded).
 *
 * - `connection` (an `io.use` middleware, after authentication): a short
 *   `socket.io connection` span for the handshake. If the client sent trace context
 *   (`traceparent`, or a bare `x-trace-id`), the span joins that trace and every event
 *   span of the connection becomes its child: one trace for the whole conversation.
 *   Without it, each event starts its own trace, linked to the connection span, so
 *   that an hour-long connection does not become one unreadable trace.
 * - `wrap(socket, event, payload, run)`: a `socket.io <event>` CONSUMER span around one
 *   event's run, active while it runs and ended when its promise settles (its work, not
 *   its return), ERROR with an exception event when it fails with a server error. It
 *   only wraps: acknowledging and replying to errors are the dispatcher's (realtime/).
 * - metrics for every connection and event, sampled or not: connections open now, and
 *   `messaging.process.duration` by event with `error.type` when it failed.
 */
export function createSocketTracing() {
  function connection(socket: Socket, next: (error?: Error) => void): void {
    countSocketConnection(1);
    socket.once('disconnect', () => countSocketConnection(-1));
    try {
      const userId = typeof socket.data?.userId === 'string' ? (socket.data.userId as string) : undefined;
      const extracted = extractHandshake(socket);
      const attributes: Attributes = {
        [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_SOCKETIO,
        [ATTR_MESSAGING_OPERATION_TYPE]: 'receive',
        [ATTR_MESSAGING_DESTINATION_NAME]: socket.nsp.name,
        [ATTR_SOCKET_ID]: socket.id,
        ...(userId !== undefined ? { [ATTR_ENDUSER_ID]: userId } : {}),
      };
      const joined = trace.getSpanContext(extracted) !== undefined;
      const bareTraceId = header(socket, 'x-trace-id')?.toLowerCase();
      const start = () => tracer.startSpan('socket.io connection', { kind: SpanKind.SERVER, attributes }, extracted);
      const span = !joined && isValidTraceId(bareTraceId) ? withPinnedTraceId(bareTraceId, start) : start();
      const inTrace = joined || isValidTraceId(bareTraceId);
      traces.set(socket, {
        parent: inTrace ? trace.setSpan(extracted, span) : undefined,
        base: trace.deleteSpan(extracted),
        connection: span.spanContext(),
        userId,
      });
      span.end();
    } catch (failure) {
      // tracing must not refuse a connection
      tracingFailed('socket.io connection tracing', failure);
    }
    next();
  }

  function wrap(socket: Socket, event: string, payload: unknown, run: () => Promise<void>): Promise<void> {
    const state = traces.get(socket);
    const sessionId = (payload as { sessionId?: unknown } | undefined)?.sessionId;
    const attributes: Attributes = {
      [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_SOCKETIO,
      [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
      [ATTR_MESSAGING_OPERATION_NAME]: event,
      [ATTR_MESSAGING_DESTINATION_NAME]: socket.nsp.name,
      [ATTR_SOCKET_EVENT]: event,
      [ATTR_SOCKET_ID]: socket.id,
      ...(state?.userId !== undefined ? { [ATTR_ENDUSER_ID]: state.userId } : {}),
      ...(typeof sessionId === 'string' && UUID.test(sessionId) ? { [ATTR_SESSION_ID]: sessionId } : {}),
    };
    const span = tracer.startSpan(
      `socket.io ${event}`,
      {
        kind: SpanKind.CONSUMER,
        attributes,
        links: state && state.parent === undefined ? [{ context: state.connection }] : [],
      },
      state?.parent ?? state?.base ?? ROOT_CONTEXT,
    );
    const active = trace.setSpan(state?.parent ?? state?.base ?? ROOT_CONTEXT, span);
    const started = performance.now();
    const settle = (error?: unknown) => {
      // every event counts in the metrics, traced or not
      recordSocketEvent(
        event,
        (performance.now() - started) / 1000,
        error === undefined ? undefined : isAppError(error) ? error.code : errorType(error),
      );
      try {
        if (error === undefined) endSpan(span);
        else if (isAppError(error) && error.status < 500) {
          // the client's mistake: worth finding, not an error of ours
          span.setAttribute(ATTR_ERROR_TYPE, error.code);
          endSpan(span);
        } else endSpan(span, error);
      } catch (failure) {
        tracingFailed('socket.io event tracing', failure);
      }
    };
    // An explicit base context: the transport's own (an untraced polling request)
    // would suppress every span below.
    return context.with(active, run).then(
      () => settle(),
      (error: unknown) => {
        settle(error);
        throw error;
      },
    );
  }

  return { connection, wrap };
}
