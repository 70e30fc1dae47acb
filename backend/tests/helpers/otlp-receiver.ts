import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';
import protobuf from 'protobufjs';

/**
 * A test OTLP/HTTP trace receiver: accepts `POST /v1/traces` in protobuf or JSON
 * (optionally gzip/deflate-compressed), decodes every span into a plain
 * `ReceivedSpan`, and can be switched to fail (503, custom status, or refused
 * connections) to exercise exporter error handling in process-level tests.
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

export type ReceiverMode =
  | 'ok'
  /** answer 503 */
  | 'unavailable'
  /** close the listening socket so connections are refused; reopen on the same port when the mode changes back */
  | 'refuse'
  | { status: number; body?: string };

export interface ReceivedRequest {
  method: string;
  path: string;
  contentType: string;
  encoding?: string;
  /** body size on the wire (before decompression) */
  bytes: number;
  /** spans decoded from the body, whether or not they were stored */
  spanCount: number;
  status: number;
  /** why the body could not be decoded, if it could not */
  error?: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface OtlpReceiver {
  url: string;
  tracesUrl: string;
  spans(): ReceivedSpan[];
  requests(): ReceivedRequest[];
  setMode(mode: ReceiverMode): Promise<void>;
  waitForSpans(predicate: (spans: ReceivedSpan[]) => boolean, opts?: { timeoutMs?: number }): Promise<ReceivedSpan[]>;
  waitForSpan(match: (span: ReceivedSpan) => boolean, opts?: { timeoutMs?: number }): Promise<ReceivedSpan>;
  trace(traceId: string): ReceivedSpan[];
  clear(): void;
  close(): Promise<void>;
}

const TRACES_PATH = '/v1/traces';
const DEFAULT_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 20;

// ---------------------------------------------------------------------------
// Protobuf schema (subset of opentelemetry-proto v1, field numbers verified
// against @opentelemetry/otlp-transformer's hand-written serializer).
// ---------------------------------------------------------------------------

const COMMON_PROTO = `
syntax = "proto3";
package opentelemetry.proto.common.v1;
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope {
  string name = 1;
  string version = 2;
  repeated KeyValue attributes = 3;
  uint32 dropped_attributes_count = 4;
}
`;

const RESOURCE_PROTO = `
syntax = "proto3";
package opentelemetry.proto.resource.v1;
message Resource {
  repeated opentelemetry.proto.common.v1.KeyValue attributes = 1;
  uint32 dropped_attributes_count = 2;
}
`;

const TRACE_PROTO = `
syntax = "proto3";
package opentelemetry.proto.trace.v1;
message ResourceSpans {
  opentelemetry.proto.resource.v1.Resource resource = 1;
  repeated ScopeSpans scope_spans = 2;
  string schema_url = 3;
}
message ScopeSpans {
  opentelemetry.proto.common.v1.InstrumentationScope scope = 1;
  repeated Span spans = 2;
  string schema_url = 3;
}
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  fixed32 flags = 16;
  string name = 5;
  enum SpanKind {
    SPAN_KIND_UNSPECIFIED = 0;
    SPAN_KIND_INTERNAL = 1;
    SPAN_KIND_SERVER = 2;
    SPAN_KIND_CLIENT = 3;
    SPAN_KIND_PRODUCER = 4;
    SPAN_KIND_CONSUMER = 5;
  }
  SpanKind kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated opentelemetry.proto.common.v1.KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10;
  message Event {
    fixed64 time_unix_nano = 1;
    string name = 2;
    repeated opentelemetry.proto.common.v1.KeyValue attributes = 3;
    uint32 dropped_attributes_count = 4;
  }
  repeated Event events = 11;
  uint32 dropped_events_count = 12;
  message Link {
    bytes trace_id = 1;
    bytes span_id = 2;
    string trace_state = 3;
    repeated opentelemetry.proto.common.v1.KeyValue attributes = 4;
    uint32 dropped_attributes_count = 5;
    fixed32 flags = 6;
  }
  repeated Link links = 13;
  uint32 dropped_links_count = 14;
  Status status = 15;
}
message Status {
  reserved 1;
  string message = 2;
  enum StatusCode {
    STATUS_CODE_UNSET = 0;
    STATUS_CODE_OK = 1;
    STATUS_CODE_ERROR = 2;
  }
  StatusCode code = 3;
}
`;

const COLLECTOR_PROTO = `
syntax = "proto3";
package opentelemetry.proto.collector.trace.v1;
message ExportTraceServiceRequest {
  repeated opentelemetry.proto.trace.v1.ResourceSpans resource_spans = 1;
}
`;

const exportRequestType = (() => {
  const root = new protobuf.Root();
  // protobufjs allows one `package` per source, so each file is parsed into the shared root.
  for (const source of [COMMON_PROTO, RESOURCE_PROTO, TRACE_PROTO, COLLECTOR_PROTO]) protobuf.parse(source, root);
  root.resolveAll();
  return root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
})();

// ---------------------------------------------------------------------------
// Decoding: protobuf is first turned into the same camelCase object shape as
// OTLP/JSON, so one normalizer handles both encodings.
// ---------------------------------------------------------------------------

class MalformedRequestError extends Error {}
class UnsupportedRequestError extends Error {}

type Obj = Record<string, unknown>;

const SPAN_KINDS: readonly SpanKindName[] = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS_CODES: readonly StatusCodeName[] = ['UNSET', 'OK', 'ERROR'];

function malformed(message: string): never {
  throw new MalformedRequestError(message);
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
  if (typeof value === 'string' && value.length === byteLength * 2 && /^[0-9a-f]+$/i.test(value)) hex = value.toLowerCase();
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

type Format = 'protobuf' | 'json';

function formatOf(contentType: string): Format | undefined {
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase();
  if (mediaType === 'application/x-protobuf' || mediaType === 'application/protobuf') return 'protobuf';
  if (mediaType === 'application/json') return 'json';
  return undefined;
}

function decodeBody(format: Format, body: Buffer): ReceivedSpan[] {
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
    message = exportRequestType.decode(body);
  } catch (error) {
    return malformed(`invalid protobuf: ${(error as Error).message}`);
  }
  const plain: unknown = exportRequestType.toObject(message, { longs: BigInt, arrays: true });
  return decodeExportRequest(plain);
}

/** Decodes an OTLP protobuf `ExportTraceServiceRequest` (the body of an OTLP/gRPC call, for one). */
export function decodeProtobufTraces(body: Buffer): ReceivedSpan[] {
  return decodeBody('protobuf', body);
}

function decompress(encoding: string | undefined, raw: Buffer): Buffer {
  switch ((encoding ?? 'identity').trim().toLowerCase()) {
    case 'identity':
    case '':
      return raw;
    case 'gzip':
      try {
        return gunzipSync(raw);
      } catch (error) {
        return malformed(`invalid gzip body: ${(error as Error).message}`);
      }
    case 'deflate':
      try {
        return inflateSync(raw);
      } catch (error) {
        return malformed(`invalid deflate body: ${(error as Error).message}`);
      }
    default:
      throw new UnsupportedRequestError(`unsupported Content-Encoding "${encoding}"`);
  }
}

// ---------------------------------------------------------------------------
// Tree helpers
// ---------------------------------------------------------------------------

export function childrenOf(spans: readonly ReceivedSpan[], span: ReceivedSpan): ReceivedSpan[] {
  return spans.filter((s) => s.traceId === span.traceId && s.parentSpanId === span.spanId);
}

/** The parent chain of `span`, nearest first, as far as it is present in `spans`. */
export function ancestorsOf(spans: readonly ReceivedSpan[], span: ReceivedSpan): ReceivedSpan[] {
  const ancestors: ReceivedSpan[] = [];
  const seen = new Set<string>([span.spanId]);
  let current = span;
  while (current.parentSpanId !== undefined && !seen.has(current.parentSpanId)) {
    const parentId = current.parentSpanId;
    const parent = spans.find((s) => s.traceId === current.traceId && s.spanId === parentId);
    if (parent === undefined) break;
    ancestors.push(parent);
    seen.add(parent.spanId);
    current = parent;
  }
  return ancestors;
}

function hasParentIn(spans: readonly ReceivedSpan[], span: ReceivedSpan): boolean {
  return (
    span.parentSpanId !== undefined &&
    spans.some((s) => s.traceId === span.traceId && s.spanId === span.parentSpanId)
  );
}

/**
 * The first span with no parent, else the first whose parent is not in `spans`
 * (a local root, e.g. a server span continuing a caller's `traceparent`).
 */
export function findRoot(spans: readonly ReceivedSpan[]): ReceivedSpan | undefined {
  return spans.find((s) => s.parentSpanId === undefined) ?? spans.find((s) => !hasParentIn(spans, s));
}

/** Indented span names grouped by trace, for assertion failure messages. */
export function formatTree(spans: readonly ReceivedSpan[]): string {
  if (spans.length === 0) return '(no spans)';
  const lines: string[] = [];
  const printed = new Set<ReceivedSpan>();
  const print = (span: ReceivedSpan, depth: number): void => {
    if (printed.has(span)) return;
    printed.add(span);
    const error = span.status.code === 'ERROR' ? ` ERROR${span.status.message ? `: ${span.status.message}` : ''}` : '';
    lines.push(`${'  '.repeat(depth)}${span.name} [${span.kind}]${error}`);
    for (const child of childrenOf(spans, span)) print(child, depth + 1);
  };
  for (const traceId of new Set(spans.map((s) => s.traceId))) {
    lines.push(`trace ${traceId}`);
    const inTrace = spans.filter((s) => s.traceId === traceId);
    for (const top of inTrace.filter((s) => !hasParentIn(inTrace, s))) print(top, 1);
    // Spans in a parent cycle have no top; print them anyway rather than hide them.
    for (const rest of inTrace) print(rest, 1);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function send(res: ServerResponse, status: number, contentType: string, body: string | Uint8Array): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startOtlpReceiver(opts: { port?: number } = {}): Promise<OtlpReceiver> {
  let received: ReceivedSpan[] = [];
  let requestLog: ReceivedRequest[] = [];
  let mode: ReceiverMode = 'ok';
  let server: Server | undefined;
  // Never rejects: it only orders mode changes.
  let modeChange: Promise<void> = Promise.resolve();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://receiver').pathname;
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    const contentType = headerValue(req.headers, 'content-type') ?? '';
    const encoding = headerValue(req.headers, 'content-encoding');
    const format = formatOf(contentType);

    let spans: ReceivedSpan[] = [];
    let status: number;
    let error: string | undefined;
    if (path !== TRACES_PATH) {
      status = 404;
    } else if (method !== 'POST') {
      status = 405;
    } else {
      try {
        if (format === undefined) throw new UnsupportedRequestError(`unsupported Content-Type "${contentType}"`);
        spans = decodeBody(format, decompress(encoding, raw));
        status = 200;
      } catch (err) {
        if (!(err instanceof MalformedRequestError || err instanceof UnsupportedRequestError)) throw err;
        error = err.message;
        status = err instanceof UnsupportedRequestError ? 415 : 400;
      }
      // The failure modes win over decoding so a test sees exactly the status it asked for.
      if (mode === 'unavailable') status = 503;
      else if (typeof mode === 'object') status = mode.status;
    }

    const accepted = status >= 200 && status < 300;
    if (accepted) received.push(...spans);
    requestLog.push({
      method,
      path,
      contentType,
      ...(encoding !== undefined ? { encoding } : {}),
      bytes: raw.length,
      spanCount: spans.length,
      status,
      ...(error !== undefined ? { error } : {}),
      headers: { ...req.headers },
    });

    if (typeof mode === 'object' && path === TRACES_PATH && method === 'POST') {
      send(res, status, format === 'json' ? 'application/json' : 'text/plain', mode.body ?? '');
    } else if (accepted && format === 'protobuf') {
      // An empty ExportTraceServiceResponse encodes to zero bytes.
      send(res, status, 'application/x-protobuf', new Uint8Array());
    } else if (accepted) {
      send(res, status, 'application/json', '{}');
    } else {
      if (status === 405) res.setHeader('Allow', 'POST');
      send(res, status, 'text/plain', error ?? (status === 503 ? 'unavailable' : String(status)));
    }
  };

  const listen = (port: number): Promise<Server> =>
    new Promise((resolve, reject) => {
      const next = createServer((req, res) => {
        handle(req, res).catch((err: unknown) => {
          if (!res.headersSent) send(res, 500, 'text/plain', String(err));
          else res.destroy();
        });
      });
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        next.off('error', reject);
        resolve(next);
      });
    });

  const stopListening = async (): Promise<void> => {
    const current = server;
    if (current === undefined) return;
    server = undefined;
    await new Promise<void>((resolve, reject) => {
      current.close((err) => (err ? reject(err) : resolve()));
      // Exporters use keep-alive agents; without this their pooled sockets would keep working.
      current.closeAllConnections();
    });
  };

  server = await listen(opts.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  let closed = false;

  const waitForSpans = async (
    predicate: (spans: ReceivedSpan[]) => boolean,
    waitOpts: { timeoutMs?: number } = {},
  ): Promise<ReceivedSpan[]> => {
    const timeoutMs = waitOpts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const snapshot = [...received];
      if (predicate(snapshot)) return snapshot;
      if (Date.now() >= deadline) {
        const statuses = requestLog.map((r) => r.status).join(', ') || 'none';
        throw new Error(
          `Timed out after ${timeoutMs}ms waiting for spans. Received ${snapshot.length} span(s) ` +
            `in ${requestLog.length} request(s) (statuses: ${statuses}):\n${formatTree(snapshot)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
  };

  return {
    url,
    tracesUrl: `${url}${TRACES_PATH}`,
    spans: () => [...received],
    requests: () => [...requestLog],
    setMode: (next) => {
      // Serialized so overlapping calls cannot interleave a close with a listen.
      const change = modeChange.then(async () => {
        if (closed) throw new Error('OTLP receiver is closed');
        mode = next;
        if (next === 'refuse') await stopListening();
        else if (server === undefined) server = await listen(port);
      });
      modeChange = change.catch(() => undefined);
      return change;
    },
    waitForSpans,
    waitForSpan: async (match, waitOpts) => {
      const spans = await waitForSpans((all) => all.some(match), waitOpts);
      const found = spans.find(match);
      if (found === undefined) throw new Error('unreachable: predicate matched but span not found');
      return found;
    },
    trace: (traceId) => received.filter((s) => s.traceId === traceId),
    clear: () => {
      received = [];
      requestLog = [];
    },
    close: async () => {
      closed = true;
      await modeChange;
      await stopListening();
    },
  };
}
