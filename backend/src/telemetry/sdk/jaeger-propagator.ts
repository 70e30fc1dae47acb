import {
  TraceFlags,
  isSpanContextValid,
  trace,
  type Context,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';

const HEADER = 'uber-trace-id';
// {trace-id}:{span-id}:{parent-span-id, deprecated}:{flags}; ids are hex, a 64-bit trace id is left-padded.
const FORMAT = /^([0-9a-f]{1,32}):([0-9a-f]{1,16}):[0-9a-f]{1,16}:([0-9a-f]{1,2})$/i;

/**
 * The Jaeger propagation format (`uber-trace-id`), for OTEL_PROPAGATORS=jaeger. The
 * package that used to provide it (@opentelemetry/propagator-jaeger) stopped at the 2.x
 * SDK line and does not accept the API version this service uses. Trace context only:
 * Jaeger's `uberctx-` baggage is not carried (W3C baggage is, with `baggage`).
 */
export class JaegerPropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = trace.getSpanContext(context);
    if (spanContext === undefined || !isSpanContextValid(spanContext)) return;
    const flags = (spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? '1' : '0';
    setter.set(carrier, HEADER, `${spanContext.traceId}:${spanContext.spanId}:0:${flags}`);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const raw = getter.get(carrier, HEADER);
    const match = FORMAT.exec(
      ((Array.isArray(raw) ? raw[0] : raw) ?? '').replaceAll('%3A', ':').replaceAll('%3a', ':'),
    );
    if (match === null) return context;
    const spanContext = {
      traceId: match[1]!.toLowerCase().padStart(32, '0'),
      spanId: match[2]!.toLowerCase().padStart(16, '0'),
      traceFlags: Number.parseInt(match[3]!, 16) & 1 ? TraceFlags.SAMPLED : TraceFlags.NONE,
      isRemote: true,
    };
    return isSpanContextValid(spanContext) ? trace.setSpanContext(context, spanContext) : context;
  }

  fields(): string[] {
    return [HEADER];
  }
}
