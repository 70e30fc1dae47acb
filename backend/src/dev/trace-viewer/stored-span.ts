import type { ReceivedSpan } from '../otlp/decode';

/**
 * A span as the viewer keeps, serves and saves it: plain JSON. Times stay exact as
 * decimal nanosecond strings (a double cannot hold them); 64-bit integers that do not
 * fit a double become strings, bytes become base64 strings.
 */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface StoredSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind: ReceivedSpan['kind'];
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: JsonObject;
  events: Array<{ name: string; timeUnixNano: string; attributes: JsonObject }>;
  links: Array<{ traceId: string; spanId: string; attributes: JsonObject }>;
  status: ReceivedSpan['status'];
  resource: JsonObject;
  scope: ReceivedSpan['scope'];
}

export function toJson(value: unknown): Json {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint')
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object') return toJsonObject(value as Record<string, unknown>);
  return String(value);
}

export function toJsonObject(record: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(record)) out[key] = toJson(value);
  return out;
}

/** Converts a decoded span; `resource` is passed in so that spans of one export share one object. */
export function toStoredSpan(span: ReceivedSpan, resource: JsonObject): StoredSpan {
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    ...(span.parentSpanId !== undefined ? { parentSpanId: span.parentSpanId } : {}),
    ...(span.traceState !== undefined ? { traceState: span.traceState } : {}),
    name: span.name,
    kind: span.kind,
    startTimeUnixNano: span.startTimeUnixNano.toString(),
    endTimeUnixNano: span.endTimeUnixNano.toString(),
    attributes: toJsonObject(span.attributes),
    events: span.events.map((event) => ({
      name: event.name,
      timeUnixNano: event.timeUnixNano.toString(),
      attributes: toJsonObject(event.attributes),
    })),
    links: span.links.map((link) => ({
      traceId: link.traceId,
      spanId: link.spanId,
      attributes: toJsonObject(link.attributes),
    })),
    status: span.status,
    resource,
    scope: span.scope,
  };
}
