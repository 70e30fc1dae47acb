import { ROOT_CONTEXT, SpanKind, context, propagation, trace, type Attributes } from '@opentelemetry/api';
import { RedisAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import {
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_SOCKET_EVENT,
  MESSAGING_SYSTEM_SOCKETIO,
  endSpan,
  tracingFailed,
} from '..';
import { tracerFor } from '../tracer';

const tracer = tracerFor('socket.io');

/**
 * Server-initiated events (a plan is ready) are delivered by whichever instance holds
 * the user's socket, often not the process that raised them. To keep that delivery in
 * the same trace, the payload carries the W3C `traceparent` of the emitting span (a
 * documented field: clients can also hand it to support).
 */
function deliveryAttributes(event: string, room: string, operation: 'send' | 'process'): Attributes {
  return {
    [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_SOCKETIO,
    [ATTR_MESSAGING_OPERATION_TYPE]: operation,
    [ATTR_MESSAGING_DESTINATION_NAME]: room,
    [ATTR_SOCKET_EVENT]: event,
  };
}

/**
 * Emits `event` to `room` inside a `socket.io emit <event>` PRODUCER span, adding its
 * `traceparent` (and `tracestate`) to the payload.
 */
export function tracedRoomEmit(
  event: string,
  room: string,
  payload: Record<string, unknown>,
  emit: (payload: Record<string, unknown>) => void,
): void {
  const span = tracer.startSpan(`socket.io emit ${event}`, {
    kind: SpanKind.PRODUCER,
    attributes: deliveryAttributes(event, room, 'send'),
  });
  try {
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), span), carrier);
    const withTrace = {
      ...payload,
      ...(carrier.traceparent ? { traceparent: carrier.traceparent } : {}),
      ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}),
    };
    context.with(trace.setSpan(context.active(), span), () => emit(withTrace));
    endSpan(span);
  } catch (error) {
    endSpan(span, error);
    throw error;
  }
}

type OnMessage = (this: RedisAdapter, pattern: string, channel: string, message: Buffer) => void;
interface AdapterInternals {
  channel: string;
  uid: string;
  parser: { decode(message: Buffer): unknown };
  hasRoom(room: string): boolean;
}

/**
 * The Socket.io Redis adapter, plus a `socket.io deliver <event>` CONSUMER span when a
 * message from another process (the worker's emitter, another instance) is delivered to
 * a socket here, continuing the trace in the payload's `traceparent`. Instances without
 * a local socket in the room make no span. It hooks the adapter's `onmessage`, private
 * in its typings (@socket.io/redis-adapter 8.3): if that changes, messages are still
 * delivered, only the span is missing.
 */
class TracingRedisAdapter extends RedisAdapter {}
const baseOnMessage = (RedisAdapter.prototype as unknown as { onmessage: OnMessage }).onmessage;
(TracingRedisAdapter.prototype as unknown as { onmessage: OnMessage }).onmessage = function tracedOnMessage(
  this: RedisAdapter,
  pattern,
  channel,
  message,
) {
  const self = this as unknown as AdapterInternals;
  let span: ReturnType<typeof tracer.startSpan> | undefined;
  try {
    const name = channel.toString();
    const room = name.startsWith(self.channel) ? name.slice(self.channel.length, -1) : '';
    if (room !== '' && self.hasRoom(room)) {
      const [uid, packet] = (self.parser.decode(message) as [string, { data?: unknown[] }] | undefined) ?? [];
      const [event, payload] = packet?.data ?? [];
      const traceparent = (payload as { traceparent?: unknown } | undefined)?.traceparent;
      if (uid !== self.uid && typeof event === 'string' && typeof traceparent === 'string') {
        const tracestate = (payload as { tracestate?: unknown }).tracestate;
        const parent = propagation.extract(ROOT_CONTEXT, {
          traceparent,
          ...(typeof tracestate === 'string' ? { tracestate } : {}),
        });
        span = tracer.startSpan(
          `socket.io deliver ${event}`,
          { kind: SpanKind.CONSUMER, attributes: deliveryAttributes(event, room, 'process') },
          parent,
        );
      }
    }
  } catch (failure) {
    // tracing must not stand between a message and its socket
    tracingFailed('socket.io delivery tracing', failure);
  }
  if (span === undefined) return baseOnMessage.call(this, pattern, channel, message);
  try {
    return context.with(trace.setSpan(ROOT_CONTEXT, span), () => baseOnMessage.call(this, pattern, channel, message));
  } finally {
    endSpan(span);
  }
};

/** `io.adapter(tracingRedisAdapter(pub, sub, key))`: the adapter for several instances. */
export function tracingRedisAdapter(pub: Redis, sub: Redis, key: string) {
  // Socket.io calls the factory with `new`: a function, not an arrow.
  return function TracingAdapterFactory(nsp: unknown) {
    return new TracingRedisAdapter(nsp, pub, sub, { key });
  };
}
