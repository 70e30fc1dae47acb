import type { AttributeValue, Attributes, HrTime, SpanContext } from '@opentelemetry/api';
import {
  ProtobufTraceSerializer,
  type IExportTraceServiceResponse,
  type ISerializer,
} from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { ProtobufWriter } from './protobuf-writer';

/**
 * OTLP/protobuf for a batch of spans, byte for byte what upstream's `ProtobufTraceSerializer`
 * (otlp-transformer 0.301) writes (the test holds the two side by side), in one pass
 * instead of two (upstream measures every field, then writes it) and with fewer
 * allocations: ids go from hex to the buffer directly, long strings through Node's
 * native encoder, the buffer is kept between batches. Field numbers are those of
 * opentelemetry/proto trace/v1 and common/v1. Responses are read by upstream's code.
 */

const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

function writeAnyValue(writer: ProtobufWriter, value: unknown): void {
  if (typeof value === 'string') {
    writer.tag(1, 2);
    writer.string(value);
  } else if (typeof value === 'boolean') {
    writer.tag(2, 0);
    writer.varint(value ? 1 : 0);
  } else if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
      writer.tag(3, 0);
      writer.varint(value);
    } else {
      writer.tag(4, 1);
      writer.double(value);
    }
  } else if (value instanceof Uint8Array) {
    writer.tag(7, 2);
    writer.bytes(value);
  } else if (Array.isArray(value)) {
    writer.tag(5, 2);
    const array = writer.begin();
    for (const item of value) {
      writer.tag(1, 2);
      const at = writer.begin();
      writeAnyValue(writer, item);
      writer.end(at);
    }
    writer.end(array);
  } else if (typeof value === 'object' && value !== null) {
    writer.tag(6, 2);
    const list = writer.begin();
    writeKeyValues(writer, value as Record<string, unknown>, 1);
    writer.end(list);
  }
}

function writeKeyValues(writer: ProtobufWriter, attributes: Attributes | Record<string, unknown>, field: number): void {
  for (const key in attributes) {
    if (!Object.hasOwn(attributes, key)) continue;
    writer.tag(field, 2);
    const pair = writer.begin();
    writer.tag(1, 2);
    writer.string(key);
    writer.tag(2, 2);
    const value = writer.begin();
    writeAnyValue(writer, (attributes as Record<string, AttributeValue | undefined>)[key]);
    writer.end(value);
    writer.end(pair);
  }
}

/** Nanoseconds since the epoch as fixed64, from [seconds, nanoseconds], without a BigInt. */
function writeTime(writer: ProtobufWriter, [seconds, nanos]: HrTime): void {
  const lowSeconds = (seconds & 65535) * 1e9;
  const highSeconds = ((seconds / 65536) >>> 0) * 1e9;
  const low = (lowSeconds >>> 0) + (((highSeconds & 65535) * 65536) >>> 0) + nanos;
  const carry = Math.floor(low / 4294967296);
  writer.fixed64(low >>> 0, (Math.floor(lowSeconds / 4294967296) + ((highSeconds / 65536) >>> 0) + carry) >>> 0);
}

/** W3C trace flags, plus "has is-remote" and "is remote" as the proto's span flags say. */
function spanFlags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 255) | 256 | (isRemote ? 512 : 0);
}

/** Fields 1–3 of a span and of a link alike: trace id, span id, trace state. */
function writeIdsAndState(writer: ProtobufWriter, context: SpanContext): void {
  writer.tag(1, 2);
  writer.hexId(context.traceId);
  writer.tag(2, 2);
  writer.hexId(context.spanId);
  const traceState = context.traceState?.serialize();
  if (traceState) {
    writer.tag(3, 2);
    writer.string(traceState);
  }
}

function writeLink(writer: ProtobufWriter, link: ReadableSpan['links'][number]): void {
  const context: SpanContext = link.context;
  writeIdsAndState(writer, context);
  if (link.attributes) writeKeyValues(writer, link.attributes, 4);
  writer.tag(5, 0);
  writer.varint(link.droppedAttributesCount || 0);
  writer.tag(6, 5);
  writer.fixed32(spanFlags(context.traceFlags, context.isRemote));
}

function writeSpan(writer: ProtobufWriter, span: ReadableSpan): void {
  const context = span.spanContext();
  writeIdsAndState(writer, context);
  if (span.parentSpanContext?.spanId) {
    writer.tag(4, 2);
    writer.hexId(span.parentSpanContext.spanId);
  }
  writer.tag(5, 2);
  writer.string(span.name);
  const kind = span.kind == null ? 0 : span.kind + 1;
  if (kind !== 0) {
    writer.tag(6, 0);
    writer.varint(kind);
  }
  writer.tag(7, 1);
  writeTime(writer, span.startTime);
  writer.tag(8, 1);
  writeTime(writer, span.endTime);
  if (span.attributes) writeKeyValues(writer, span.attributes, 9);
  writer.tag(10, 0);
  writer.varint(span.droppedAttributesCount);
  for (const event of span.events) {
    writer.tag(11, 2);
    const at = writer.begin();
    writer.tag(1, 1);
    writeTime(writer, event.time);
    writer.tag(2, 2);
    writer.string(event.name);
    if (event.attributes) writeKeyValues(writer, event.attributes, 3);
    writer.tag(4, 0);
    writer.varint(event.droppedAttributesCount || 0);
    writer.end(at);
  }
  writer.tag(12, 0);
  writer.varint(span.droppedEventsCount);
  for (const link of span.links) {
    writer.tag(13, 2);
    const at = writer.begin();
    writeLink(writer, link);
    writer.end(at);
  }
  writer.tag(14, 0);
  writer.varint(span.droppedLinksCount);
  writer.tag(15, 2);
  const status = writer.begin();
  if (span.status.message) {
    writer.tag(2, 2);
    writer.string(span.status.message);
  }
  writer.tag(3, 0);
  writer.varint(span.status.code);
  writer.end(status);
  writer.tag(16, 5);
  writer.fixed32(spanFlags(context.traceFlags, span.parentSpanContext?.isRemote));
}

type Scope = ReadableSpan['instrumentationScope'];

function writeScopeSpans(writer: ProtobufWriter, scope: Scope, spans: ReadableSpan[]): void {
  writer.tag(1, 2);
  const at = writer.begin();
  writer.tag(1, 2);
  writer.string(scope.name);
  if (scope.version) {
    writer.tag(2, 2);
    writer.string(scope.version);
  }
  const { attributes, droppedAttributesCount } = scope as Scope & {
    attributes?: Attributes;
    droppedAttributesCount?: number;
  };
  if (attributes) writeKeyValues(writer, attributes, 3);
  if (droppedAttributesCount) {
    writer.tag(4, 0);
    writer.varint(droppedAttributesCount);
  }
  writer.end(at);
  for (const span of spans) {
    writer.tag(2, 2);
    const spanAt = writer.begin();
    writeSpan(writer, span);
    writer.end(spanAt);
  }
  if (scope.schemaUrl) {
    writer.tag(3, 2);
    writer.string(scope.schemaUrl);
  }
}

/** Spans by resource, then by scope, by identity and in their order: as upstream groups them. */
function group(spans: ReadableSpan[]): Map<ReadableSpan['resource'], Map<Scope, ReadableSpan[]>> {
  const resources = new Map<ReadableSpan['resource'], Map<Scope, ReadableSpan[]>>();
  for (const span of spans) {
    let scopes = resources.get(span.resource);
    if (scopes === undefined) {
      scopes = new Map();
      resources.set(span.resource, scopes);
    }
    let list = scopes.get(span.instrumentationScope);
    if (list === undefined) {
      list = [];
      scopes.set(span.instrumentationScope, list);
    }
    list.push(span);
  }
  return resources;
}

export function serializeSpans(writer: ProtobufWriter, spans: ReadableSpan[]): Uint8Array {
  // whatever a failed batch left behind is not part of this one
  writer.pos = 0;
  for (const [resource, scopes] of group(spans)) {
    writer.tag(1, 2);
    const resourceSpans = writer.begin();
    writer.tag(1, 2);
    const resourceAt = writer.begin();
    if (resource.attributes) writeKeyValues(writer, resource.attributes, 1);
    writer.tag(2, 0);
    writer.varint(0);
    writer.end(resourceAt);
    for (const [scope, list] of scopes) {
      writer.tag(2, 2);
      const scopeSpans = writer.begin();
      writeScopeSpans(writer, scope, list);
      writer.end(scopeSpans);
    }
    if (resource.schemaUrl) {
      writer.tag(3, 2);
      writer.string(resource.schemaUrl);
    }
    writer.end(resourceSpans);
  }
  return writer.take();
}

/** A serializer per exporter: it owns a writer, and one exporter sends one batch at a time. */
export function createProtobufSpanSerializer(): ISerializer<ReadableSpan[], IExportTraceServiceResponse> {
  const writer = new ProtobufWriter();
  return {
    serializeRequest: (spans) => serializeSpans(writer, spans),
    deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data),
  };
}
