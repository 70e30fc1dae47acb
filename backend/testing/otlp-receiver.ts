import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeTraceExport, formatOf, OtlpRequestError, type ReceivedSpan } from '../src/dev/otlp/decode';
import { formatTree } from '../src/dev/otlp/tree';
import { decodeMetricsJson, decodeMetricsProtobuf, type ReceivedMetricPoint } from './otlp-metrics';

/**
 * A test OTLP/HTTP trace receiver: accepts `POST /v1/traces` in protobuf or JSON
 * (optionally gzip/deflate-compressed), decodes every span into a plain
 * `ReceivedSpan` with the decoder the local trace viewer uses (backend/src/dev/otlp),
 * and can be switched to fail (503, custom status, or refused connections) to
 * exercise exporter error handling in process-level tests.
 */

export type { ReceivedSpan, SpanKindName, StatusCodeName } from '../src/dev/otlp/decode';
export { ancestorsOf, childrenOf, findRoot, formatTree } from '../src/dev/otlp/tree';

export type ReceiverMode =
  | 'ok'
  /** answer 503 */
  | 'unavailable'
  /** close the listening socket so connections are refused; reopen on the same port when the mode changes back */
  | 'refuse'
  /** accept connections and requests, and never answer (a hung collector) */
  | 'hang'
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
  /** Metric data points received on `/v1/metrics` (OTLP/JSON or protobuf bodies), and every metrics request's content type. */
  metrics(): ReceivedMetricPoint[];
  metricRequests(): Array<{ contentType: string; bytes: number }>;
  waitForMetrics(
    predicate: (points: ReceivedMetricPoint[]) => boolean,
    opts?: { timeoutMs?: number },
  ): Promise<ReceivedMetricPoint[]>;
  setMode(mode: ReceiverMode): Promise<void>;
  waitForSpans(predicate: (spans: ReceivedSpan[]) => boolean, opts?: { timeoutMs?: number }): Promise<ReceivedSpan[]>;
  waitForSpan(match: (span: ReceivedSpan) => boolean, opts?: { timeoutMs?: number }): Promise<ReceivedSpan>;
  trace(traceId: string): ReceivedSpan[];
  clear(): void;
  close(): Promise<void>;
}

const TRACES_PATH = '/v1/traces';
const METRICS_PATH = '/v1/metrics';
const DEFAULT_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 20;

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

  let metricPoints: ReceivedMetricPoint[] = [];
  let metricLog: Array<{ contentType: string; bytes: number }> = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://receiver').pathname;
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    const contentType = headerValue(req.headers, 'content-type') ?? '';
    const encoding = headerValue(req.headers, 'content-encoding');
    const format = formatOf(contentType);

    if (mode === 'hang' && path === TRACES_PATH) {
      // read, then never answer: the exporter's own timeout (or the connection closing) ends it
      requestLog.push({
        method,
        path,
        contentType,
        bytes: raw.length,
        spanCount: 0,
        status: 0,
        headers: { ...req.headers },
      });
      return;
    }
    // metrics are received apart from traces: the failure modes and the request log are about traces
    if (path === METRICS_PATH && method === 'POST') {
      metricLog.push({ contentType, bytes: raw.length });
      const body = encoding?.toLowerCase() === 'gzip' ? gunzipSync(raw) : raw;
      if (format === 'json') metricPoints.push(...decodeMetricsJson(body));
      if (format === 'protobuf') metricPoints.push(...decodeMetricsProtobuf(body));
      if (format === 'protobuf') send(res, 200, 'application/x-protobuf', new Uint8Array());
      else send(res, 200, 'application/json', '{}');
      return;
    }

    let spans: ReceivedSpan[] = [];
    let status: number;
    let error: string | undefined;
    if (path !== TRACES_PATH) {
      status = 404;
    } else if (method !== 'POST') {
      status = 405;
    } else {
      try {
        spans = decodeTraceExport({ contentType, encoding, body: raw });
        status = 200;
      } catch (err) {
        if (!(err instanceof OtlpRequestError)) throw err;
        error = err.message;
        status = err.status;
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
    metrics: () => [...metricPoints],
    metricRequests: () => [...metricLog],
    waitForMetrics: async (predicate, waitOpts = {}) => {
      const deadline = Date.now() + (waitOpts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      for (;;) {
        const snapshot = [...metricPoints];
        if (predicate(snapshot)) return snapshot;
        if (Date.now() >= deadline) {
          throw new Error(
            `Timed out waiting for metrics; received: ${[...new Set(snapshot.map((point) => point.name))].join(', ') || 'none'}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
      }
    },
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
      metricPoints = [];
      metricLog = [];
    },
    close: async () => {
      closed = true;
      await modeChange;
      await stopListening();
    },
  };
}
