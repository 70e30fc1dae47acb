import { gunzipSync, inflateSync } from 'node:zlib';
import type protobuf from 'protobufjs';
import { exportTraceServiceRequest } from './proto';

/**
 * OTLP/HTTP trace decoding, shared by the local trace viewer and the tests' receiver:
 * a body in protobuf or JSON (optionally gzip/deflate-compressed) becomes plain
 * `ReceivedSpan`s. Protobuf is first turned into the same camelCase object shape as
 * OTLP/JSON, so one normalizer handles both encodings.
 */

export type SpanKindName = 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER' | 'UNSPECIFIED';
export type StatusCodeName = 'UNSET' | 'OK' | 'ERROR';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind: SpanKindName;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; timeUnixNano: bigint; attributes: Record<string, unknown> }>;
  links: Array<{ traceId: string; spanId: string; attributes: Record<string, unknown> }>;
  status: { code: StatusCodeName; message?: string };
  resource: Record<string, unknown>;
  scope: { name: string; version?: string };
}

/** Why a request body cannot be decoded: 400 malformed, 413 too large once decompressed, 415 unsupported type or encoding. */
export class OtlpRequestError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 413 | 415,
  ) {
    super(message);
    this.name = 'OtlpRequestError';
  }
}

type Obj = Record<string, unknown>;

const SPAN_KINDS: readonly SpanKindName[] = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS_CODES: readonly StatusCodeName[] = ['UNSET', 'OK', 'ERROR'];

function malformed(message: string): never {
  throw new OtlpRequestError(message, 400);
}

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function asObj(value: unknown, what: string): Obj {
  if (value === undefined || value === null) return {};
  return isObj(value) ? value : malformed(`${what} is not an object`);
}

function asList(value: unknown, what: string): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : malformed(`${what} is not an array`);
}

function asString(value: unknown, what: string): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : malformed(`${what} is not a string`);
}

function asInt64(value: unknown, what: string): bigint {
  if (value === undefined || value === null) return 0n;
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return malformed(`${what} is not an integer: ${String(value)}`);
}

function asBytes(value: unknown, what: string): Uint8Array {
  if (value === undefined || value === null) return new Uint8Array();
  // Copy so callers see a plain Uint8Array rather than a Buffer view over the request body.
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (typeof value === 'string') return new Uint8Array(Buffer.from(value, 'base64'));
  return malformed(`${what} is not bytes`);
}

/** Span/trace ids: bytes in protobuf; hex in OTLP/JSON (base64 accepted for protojson-style senders). */
function asId(value: unknown, byteLength: number, what: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let hex: string;
  if (typeof value === 'string' && value.length === byteLength * 2 && /^[0-9a-f]+$/i.test(value))
    hex = value.toLowerCase();
  else hex = Buffer.from(asBytes(value, what)).toString('hex');
  if (hex.length === 0) return undefined;
  return hex.length === byteLength * 2 ? hex : malformed(`${what} must be ${byteLength} bytes, got "${hex}"`);
}

function requiredId(value: unknown, byteLength: number, what: string): string {
  return asId(value, byteLength, what) ?? malformed(`${what} is missing`);
}

function asEnum<T extends string>(value: unknown, names: readonly T[], prefix: string, what: string): T {
  if (value === undefined || value === null) return names[0] ?? malformed(`${what} has no default`);
  if (typeof value === 'number' && names[value] !== undefined) return names[value];
  if (typeof value === 'string') {
    const name = value.startsWith(prefix) ? value.slice(prefix.length) : value;
    const found = names.find((candidate) => candidate === name);
    if (found !== undefined) return found;
  }
  return malformed(`${what} has unknown value ${String(value)}`);
}

function decodeAnyValue(value: unknown, what: string): unknown {
  const v = asObj(value, what);
  if (v.stringValue !== undefined) return asString(v.stringValue, what);
  if (v.boolValue !== undefined) {
    return typeof v.boolValue === 'boolean' ? v.boolValue : malformed(`${what}.boolValue is not a boolean`);
  }
  if (v.intValue !== undefined) {
    const int = asInt64(v.intValue, `${what}.intValue`);
    return int >= BigInt(Number.MIN_SAFE_INTEGER) && int <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(int) : int;
  }
  if ('doubleValue' in v) {
    const double = v.doubleValue;
    if (typeof double === 'number') return double;
    // JSON.stringify turns NaN/±Infinity into null; protojson senders use these strings.
    if (double === null) return Number.NaN;
    if (double === 'NaN' || double === 'Infinity' || double === '-Infinity') return Number(double);
    return malformed(`${what}.doubleValue is not a number`);
  }
  if (v.arrayValue !== undefined) {
    return asList(asObj(v.arrayValue, what).values, `${what}.arrayValue.values`).map((item, i) =>
      decodeAnyValue(item, `${what}[${i}]`),
    );
  }
  if (v.kvlistValue !== undefined) return decodeAttributes(asObj(v.kvlistValue, what).values, what);
  if (v.bytesValue !== undefined) return asBytes(v.bytesValue, `${what}.bytesValue`);
  // An AnyValue with no field set is how OTLP encodes null.
  return null;
}

function decodeAttributes(value: unknown, what: string): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const entry of asList(value, what)) {
    const kv = asObj(entry, what);
    const key = asString(kv.key, `${what} key`);
    attributes[key] = decodeAnyValue(kv.value, `${what}["${key}"]`);
  }
  return attributes;
}

function decodeSpan(value: unknown, resource: Record<string, unknown>, scope: ReceivedSpan['scope']): ReceivedSpan {
  const s = asObj(value, 'span');
  const name = asString(s.name, 'span.name');
  const where = `span "${name}"`;
  const status = asObj(s.status, `${where} status`);
  const statusMessage = asString(status.message, `${where} status.message`);
  const traceState = asString(s.traceState, `${where} traceState`);
  const parentSpanId = asId(s.parentSpanId, 8, `${where} parentSpanId`);
  return {
    traceId: requiredId(s.traceId, 16, `${where} traceId`),
    spanId: requiredId(s.spanId, 8, `${where} spanId`),
    ...(parentSpanId !== undefined ? { parentSpanId } : {}),
    ...(traceState !== '' ? { traceState } : {}),
    name,
    kind: asEnum(s.kind, SPAN_KINDS, 'SPAN_KIND_', `${where} kind`),
    startTimeUnixNano: asInt64(s.startTimeUnixNano, `${where} startTimeUnixNano`),
    endTimeUnixNano: asInt64(s.endTimeUnixNano, `${where} endTimeUnixNano`),
    attributes: decodeAttributes(s.attributes, `${where} attributes`),
    events: asList(s.events, `${where} events`).map((item) => {
      const event = asObj(item, `${where} event`);
      return {
        name: asString(event.name, `${where} event name`),
        timeUnixNano: asInt64(event.timeUnixNano, `${where} event timeUnixNano`),
        attributes: decodeAttributes(event.attributes, `${where} event attributes`),
      };
    }),
    links: asList(s.links, `${where} links`).map((item) => {
      const link = asObj(item, `${where} link`);
      return {
        traceId: requiredId(link.traceId, 16, `${where} link traceId`),
        spanId: requiredId(link.spanId, 8, `${where} link spanId`),
        attributes: decodeAttributes(link.attributes, `${where} link attributes`),
      };
    }),
    status: {
      code: asEnum(status.code, STATUS_CODES, 'STATUS_CODE_', `${where} status.code`),
      ...(statusMessage !== '' ? { message: statusMessage } : {}),
    },
    resource,
    scope,
  };
}

function decodeExportRequest(request: unknown): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rsValue of asList(asObj(request, 'request').resourceSpans, 'resourceSpans')) {
    const rs = asObj(rsValue, 'resourceSpans[]');
    const resource = decodeAttributes(asObj(rs.resource, 'resource').attributes, 'resource attributes');
    for (const ssValue of asList(rs.scopeSpans, 'scopeSpans')) {
      const ss = asObj(ssValue, 'scopeSpans[]');
      const scopeObj = asObj(ss.scope, 'scope');
      const version = asString(scopeObj.version, 'scope.version');
      const scope = { name: asString(scopeObj.name, 'scope.name'), ...(version !== '' ? { version } : {}) };
      for (const span of asList(ss.spans, 'spans')) spans.push(decodeSpan(span, resource, scope));
    }
  }
  return spans;
}

export type OtlpFormat = 'protobuf' | 'json';

/** The OTLP encoding a Content-Type names, if it names one. */
export function formatOf(contentType: string): OtlpFormat | undefined {
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase();
  if (mediaType === 'application/x-protobuf' || mediaType === 'application/protobuf') return 'protobuf';
  if (mediaType === 'application/json') return 'json';
  return undefined;
}

function decodeBody(format: OtlpFormat, body: Buffer): ReceivedSpan[] {
  if (format === 'json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (error) {
      return malformed(`invalid JSON: ${(error as Error).message}`);
    }
    return decodeExportRequest(parsed);
  }
  let message: protobuf.Message;
  try {
    message = exportTraceServiceRequest().decode(body);
  } catch (error) {
    return malformed(`invalid protobuf: ${(error as Error).message}`);
  }
  const plain: unknown = exportTraceServiceRequest().toObject(message, { longs: BigInt, arrays: true });
  return decodeExportRequest(plain);
}

function decompress(encoding: string | undefined, raw: Buffer, maxBytes: number): Buffer {
  const inflate = (name: string, run: (options: { maxOutputLength: number }) => Buffer): Buffer => {
    try {
      return run({ maxOutputLength: maxBytes });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new OtlpRequestError(`${name} body is larger than ${maxBytes} bytes once decompressed`, 413);
      }
      return malformed(`invalid ${name} body: ${(error as Error).message}`);
    }
  };
  switch ((encoding ?? 'identity').trim().toLowerCase()) {
    case 'identity':
    case '':
      return raw;
    case 'gzip':
      return inflate('gzip', (options) => gunzipSync(raw, options));
    case 'deflate':
      return inflate('deflate', (options) => inflateSync(raw, options));
    default:
      throw new OtlpRequestError(`unsupported Content-Encoding "${encoding}"`, 415);
  }
}

/** Default bound on a decompressed body: far above any exporter's batch, well below a zip bomb. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

/**
 * Decodes one `POST /v1/traces` body. Throws `OtlpRequestError` (its `status` says
 * which) for a body that is not a valid export request.
 */
export function decodeTraceExport({
  contentType,
  encoding,
  body,
  maxDecompressedBytes = DEFAULT_MAX_DECOMPRESSED_BYTES,
}: {
  contentType: string;
  encoding?: string;
  body: Buffer;
  maxDecompressedBytes?: number;
}): ReceivedSpan[] {
  const format = formatOf(contentType);
  if (format === undefined) throw new OtlpRequestError(`unsupported Content-Type "${contentType}"`, 415);
  return decodeBody(format, decompress(encoding, body, maxDecompressedBytes));
}
