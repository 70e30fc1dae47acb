import type { ISerializer } from '@opentelemetry/otlp-transformer';
import { DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { tracingFailed } from '../failure';
import type { Exemplar, ExemplarLookup } from './exemplars';

/**
 * OTLP metric serializers that add exemplars to the upstream ones' output: otlp-transformer
 * writes every field of a histogram data point except `exemplars`. The upstream bytes (or JSON)
 * are kept as they are; each histogram data point gets its exemplars appended, found by
 * position, since the upstream serializers write scopes, metrics and points in the order of
 * the collection.
 */

/** Exemplars of each histogram data point, indexed [scope][metric][point]; undefined when there are none at all. */
type Placement = Exemplar[][][][];

function place(metrics: ResourceMetrics, lookup: ExemplarLookup): Placement | undefined {
  let any = false;
  const placement = metrics.scopeMetrics.map((scopeMetrics) =>
    scopeMetrics.metrics.map((metric) => {
      if (metric.dataPointType !== DataPointType.HISTOGRAM) return [];
      const key = {
        scope: scopeMetrics.scope.name,
        scopeVersion: scopeMetrics.scope.version ?? '',
        name: metric.descriptor.name,
      };
      return metric.dataPoints.map((point) => {
        const found = lookup(key, point.attributes);
        if (found.length > 0) any = true;
        return found;
      });
    }),
  );
  return any ? placement : undefined;
}

const nanos = (timeMs: number) => BigInt(Math.round(timeMs)) * 1_000_000n;

// ---- protobuf: field numbers of opentelemetry/proto/metrics/v1/metrics.proto and the collector service
const REQUEST_RESOURCE_METRICS = 1;
const RESOURCE_SCOPE_METRICS = 2;
const SCOPE_METRICS = 2;
const METRIC_NAME = 1;
const METRIC_HISTOGRAM = 9;
const HISTOGRAM_DATA_POINTS = 1;
const HISTOGRAM_POINT_EXEMPLARS = 8;
const EXEMPLAR = { timeUnixNano: 2, asDouble: 3, spanId: 4, traceId: 5, asInt: 6 } as const;
const WIRE = { varint: 0, fixed64: 1, len: 2, fixed32: 5 } as const;

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

const tag = (field: number, wire: number) => varint(field * 8 + wire);
const lengthDelimited = (field: number, body: Buffer) =>
  Buffer.concat([tag(field, WIRE.len), varint(body.length), body]);

function readVarint(buffer: Buffer, start: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  let position = start;
  for (;;) {
    const byte = buffer[position++];
    if (byte === undefined) throw new Error('truncated varint');
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return { value, next: position };
    scale *= 0x80;
  }
}

interface Field {
  field: number;
  wire: number;
  /** where the field starts (its tag) and ends */
  start: number;
  end: number;
  /** the payload of a length-delimited field */
  body: Buffer;
}

function* fields(message: Buffer): Generator<Field> {
  let position = 0;
  while (position < message.length) {
    const start = position;
    const key = readVarint(message, position);
    const field = Math.floor(key.value / 8);
    const wire = key.value % 8;
    position = key.next;
    let body = message.subarray(0, 0);
    if (wire === WIRE.varint) position = readVarint(message, position).next;
    else if (wire === WIRE.fixed64) position += 8;
    else if (wire === WIRE.fixed32) position += 4;
    else if (wire === WIRE.len) {
      const length = readVarint(message, position);
      body = message.subarray(length.next, length.next + length.value);
      position = length.next + length.value;
    } else throw new Error(`unexpected wire type ${wire}`);
    if (position > message.length) throw new Error('truncated message');
    yield { field, wire, start, end: position, body };
  }
}

/** Copies `message`, replacing the n-th occurrence of length-delimited `field` by `rewrite(body, n)`. */
function rewriteEach(message: Buffer, field: number, rewrite: (body: Buffer, index: number) => Buffer): Buffer {
  const parts: Buffer[] = [];
  let index = 0;
  for (const found of fields(message)) {
    if (found.field === field && found.wire === WIRE.len)
      parts.push(lengthDelimited(field, rewrite(found.body, index++)));
    else parts.push(message.subarray(found.start, found.end));
  }
  return Buffer.concat(parts);
}

function fixed64(value: bigint, signed: boolean): Buffer {
  const bytes = Buffer.alloc(8);
  if (signed) bytes.writeBigInt64LE(value);
  else bytes.writeBigUInt64LE(value);
  return bytes;
}

/** One `Exemplar` message (no filtered attributes: no view drops any). */
export function encodeExemplar(exemplar: Exemplar): Buffer {
  const parts = [tag(EXEMPLAR.timeUnixNano, WIRE.fixed64), fixed64(nanos(exemplar.timeMs), false)];
  if (exemplar.isInt) parts.push(tag(EXEMPLAR.asInt, WIRE.fixed64), fixed64(BigInt(Math.trunc(exemplar.value)), true));
  else {
    const double = Buffer.alloc(8);
    double.writeDoubleLE(exemplar.value);
    parts.push(tag(EXEMPLAR.asDouble, WIRE.fixed64), double);
  }
  if (exemplar.spanId !== undefined) parts.push(lengthDelimited(EXEMPLAR.spanId, Buffer.from(exemplar.spanId, 'hex')));
  if (exemplar.traceId !== undefined)
    parts.push(lengthDelimited(EXEMPLAR.traceId, Buffer.from(exemplar.traceId, 'hex')));
  return Buffer.concat(parts);
}

function metricName(metric: Buffer): string | undefined {
  for (const found of fields(metric))
    if (found.field === METRIC_NAME && found.wire === WIRE.len) return found.body.toString('utf8');
  return undefined;
}

/** Adds the exemplars to an `ExportMetricsServiceRequest` written by otlp-transformer. */
export function addExemplarsToProtobuf(request: Buffer, metrics: ResourceMetrics, placement: Placement): Buffer {
  return rewriteEach(request, REQUEST_RESOURCE_METRICS, (resource) =>
    rewriteEach(resource, RESOURCE_SCOPE_METRICS, (scope, s) =>
      rewriteEach(scope, SCOPE_METRICS, (metric, m) => {
        const points = placement[s]?.[m];
        // a metric not where the collection has it (never with otlp-transformer): left without exemplars
        if (!points?.some((exemplars) => exemplars.length > 0)) return metric;
        if (metricName(metric) !== metrics.scopeMetrics[s]?.metrics[m]?.descriptor.name) return metric;
        return rewriteEach(metric, METRIC_HISTOGRAM, (histogram) =>
          rewriteEach(histogram, HISTOGRAM_DATA_POINTS, (point, p) =>
            Buffer.concat([
              point,
              ...(points[p] ?? []).map((exemplar) =>
                lengthDelimited(HISTOGRAM_POINT_EXEMPLARS, encodeExemplar(exemplar)),
              ),
            ]),
          ),
        );
      }),
    ),
  );
}

// ---- JSON
type Json = Record<string, unknown>;
const list = (value: unknown): Json[] => (Array.isArray(value) ? (value as Json[]) : []);

function exemplarJson(exemplar: Exemplar): Json {
  return {
    filteredAttributes: [],
    timeUnixNano: nanos(exemplar.timeMs).toString(),
    ...(exemplar.isInt ? { asInt: Math.trunc(exemplar.value) } : { asDouble: exemplar.value }),
    ...(exemplar.spanId !== undefined ? { spanId: exemplar.spanId } : {}),
    ...(exemplar.traceId !== undefined ? { traceId: exemplar.traceId } : {}),
  };
}

function addExemplarsToJson(request: Uint8Array, metrics: ResourceMetrics, placement: Placement): Uint8Array {
  const parsed = JSON.parse(Buffer.from(request).toString('utf8')) as Json;
  for (const resource of list(parsed.resourceMetrics)) {
    for (const [s, scope] of list(resource.scopeMetrics).entries()) {
      for (const [m, metric] of list(scope.metrics).entries()) {
        if (metric.name !== metrics.scopeMetrics[s]?.metrics[m]?.descriptor.name) continue;
        for (const [p, point] of list((metric.histogram as Json | undefined)?.dataPoints).entries()) {
          const exemplars = placement[s]?.[m]?.[p] ?? [];
          if (exemplars.length > 0) point.exemplars = exemplars.map(exemplarJson);
        }
      }
    }
  }
  return new TextEncoder().encode(JSON.stringify(parsed));
}

/**
 * `base` (otlp-transformer's JSON or protobuf metrics serializer) plus the exemplars that
 * `collect` hands out: called once per export, it gives those recorded since the previous one.
 */
export function withExemplars<Response>(
  base: ISerializer<ResourceMetrics, Response>,
  encoding: 'json' | 'protobuf',
  collect: () => ExemplarLookup,
): ISerializer<ResourceMetrics, Response> {
  return {
    serializeRequest(metrics) {
      const serialized = base.serializeRequest(metrics);
      if (serialized === undefined) return serialized;
      try {
        const placement = place(metrics, collect());
        if (placement === undefined) return serialized;
        return encoding === 'json'
          ? addExemplarsToJson(serialized, metrics, placement)
          : addExemplarsToProtobuf(
              Buffer.from(serialized.buffer, serialized.byteOffset, serialized.length),
              metrics,
              placement,
            );
      } catch (failure) {
        // the metrics still go, without their exemplars
        tracingFailed('withExemplars', failure);
        return serialized;
      }
    },
    deserializeResponse: (data) => base.deserializeResponse(data),
  };
}
