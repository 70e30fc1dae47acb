import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renovationReply, usageFor } from './policy';
import type { GeminiRequestBody, RecordedRequest, StandInTurn, StandInUsage } from './types';

export type { StandInTurn, StandInUsage, RecordedRequest } from './types';

export interface GeminiStandIn {
  /** Base URL to give the Gemini client (`baseUrl`); the API version is in the path. */
  baseUrl: string;
  server: Server;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Queues scripted answers; when the queue is empty the renovation policy answers. */
  enqueue(...turns: StandInTurn[]): void;
  close(): Promise<void>;
}

export interface StandInOptions {
  script?: StandInTurn[];
  /** Pause between streamed chunks, so streaming is visible. */
  chunkDelayMs?: number;
  /** Pause before answering each call: a slow model, for latency alerts. */
  latencyMs?: number;
  host?: string;
  port?: number;
}

const ROUTE = /^\/(v1beta|v1|v1alpha)\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;
const MAX_BODY = 10 * 1024 * 1024;

/**
 * An error as Gemini sends it. A wait goes where Google APIs put it, in a
 * `google.rpc.RetryInfo` detail, and in a `Retry-After` header as HTTP proxies do.
 */
function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  grpcStatus = 'INVALID_ARGUMENT',
  retryAfterSeconds?: number,
): void {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=UTF-8' };
  const details: unknown[] = [];
  if (retryAfterSeconds !== undefined) {
    headers['retry-after'] = String(Math.ceil(retryAfterSeconds));
    details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfterSeconds}s` });
  }
  res.writeHead(status, headers);
  const error = { code: status, message, status: grpcStatus, ...(details.length ? { details } : {}) };
  res.end(JSON.stringify({ error }));
}

/**
 * The model version the stand-in says answered: a dated version of the requested model,
 * as Gemini reports one in `modelVersion`, so a trace shows requested and answering model apart.
 */
export const standInModelVersion = (model: string): string => `${model}-preview-06-17`;

function usageMetadata(usage: StandInUsage, candidatesSoFar = usage.candidatesTokens) {
  const thoughts = usage.thoughtsTokens ?? 0;
  return {
    promptTokenCount: usage.promptTokens,
    candidatesTokenCount: candidatesSoFar,
    totalTokenCount: usage.promptTokens + candidatesSoFar + thoughts,
    ...(thoughts > 0 ? { thoughtsTokenCount: thoughts } : {}),
  };
}

function splitForStreaming(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [text];
}

async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * An offline stand-in for the Gemini REST API (`generateContent`,
 * `streamGenerateContent?alt=sse`, `usageMetadata`, function calls), as
 * `@google/generative-ai` calls it. The app starts one on loopback when no
 * GEMINI_API_KEY is set, so the real client code path, its HTTP call and its token
 * usage run in every environment; tests start their own with a script.
 */
export async function startGeminiStandIn({
  script = [],
  chunkDelayMs = 15,
  latencyMs = 0,
  host = '127.0.0.1',
  port = 0,
}: StandInOptions = {}): Promise<GeminiStandIn> {
  const queue: StandInTurn[] = [...script];
  const requests: RecordedRequest[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const route = ROUTE.exec(url.pathname);
    const raw = await readBody(req);
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    let body: GeminiRequestBody | undefined;
    try {
      body = raw ? (JSON.parse(raw) as GeminiRequestBody) : undefined;
    } catch {
      return sendError(res, 400, 'Invalid JSON payload received.');
    }
    const model = route?.[2] ?? '';
    const stream = route?.[3] === 'streamGenerateContent';
    requests.push({
      method: req.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      model,
      stream,
      headers: req.headers,
      body,
    });
    if (req.method !== 'POST' || route === undefined || route === null)
      return sendError(res, 404, `no route for ${req.method} ${url.pathname}`, 'NOT_FOUND');
    if (!req.headers['x-goog-api-key'])
      return sendError(
        res,
        403,
        "Method doesn't allow unregistered callers. Please use an API key.",
        'PERMISSION_DENIED',
      );
    if (stream && url.searchParams.get('alt') !== 'sse')
      return sendError(res, 400, 'this stand-in streams only with alt=sse');

    const turn = queue.shift() ?? renovationReply(body);
    if ('status' in turn) {
      const { status, message = 'stand-in error', grpcStatus = 'UNAVAILABLE', retryAfterSeconds } = turn;
      return sendError(res, status, message, grpcStatus, retryAfterSeconds);
    }
    const meta = { modelVersion: standInModelVersion(model), responseId: `stand-in-${randomBytes(8).toString('hex')}` };
    Object.assign(requests.at(-1)!, meta);

    const parts =
      'functionCalls' in turn
        ? turn.functionCalls.map((call) => ({ functionCall: { name: call.name, args: call.args } }))
        : [{ text: turn.text }];
    const usage = turn.usage ?? usageFor(body, 'text' in turn ? turn.text : JSON.stringify(parts));
    const finishReason = ('finishReason' in turn && turn.finishReason) || 'STOP';

    if (!stream) {
      res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(
        JSON.stringify({
          candidates: [{ content: { role: 'model', parts }, finishReason, index: 0 }],
          usageMetadata: usageMetadata(usage),
          ...meta,
        }),
      );
      return;
    }

    // SSE as the real API sends it: one JSON response per `data:` event, usage on every
    // chunk (candidates cumulative), the finish reason on the last; a function call whole.
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (payload: unknown) => res.write(`data: ${JSON.stringify(payload)}\r\n\r\n`);
    if ('functionCalls' in turn) {
      const candidates = [{ content: { role: 'model', parts }, finishReason, index: 0 }];
      send({ candidates, usageMetadata: usageMetadata(usage), ...meta });
      res.end();
      return;
    }
    const pieces = turn.chunks ?? splitForStreaming(turn.text);
    const delay = turn.delayMs ?? chunkDelayMs;
    for (let i = 0; i < pieces.length; i++) {
      if (res.destroyed) return;
      const last = i === pieces.length - 1;
      const candidatesSoFar = last
        ? usage.candidatesTokens
        : Math.round(((i + 1) / pieces.length) * usage.candidatesTokens);
      send({
        candidates: [
          { content: { role: 'model', parts: [{ text: pieces[i] }] }, ...(last ? { finishReason } : {}), index: 0 },
        ],
        usageMetadata: usageMetadata(usage, candidatesSoFar),
        ...meta,
      });
      if (delay > 0 && !last) await new Promise((resolve) => setTimeout(resolve, delay));
    }
    res.end();
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        sendError(res, 500, error instanceof Error ? error.message : 'stand-in failure', 'INTERNAL');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    baseUrl: `http://${host}:${address.port}`,
    server,
    requests,
    enqueue: (...turns) => void queue.push(...turns),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
