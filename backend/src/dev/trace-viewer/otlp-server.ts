import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { decodeTraceExport, formatOf, OtlpRequestError } from '../otlp/decode';
import { BodyTooLargeError, header, readBody, send } from './http';
import type { TraceStore } from './store';

/** Largest export body accepted on the wire; exporters send batches far below it. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/**
 * The OTLP/HTTP trace receiver: `POST /v1/traces` in protobuf or JSON, gzip or deflate
 * or plain, answered the way exporters expect (an empty response of the request's
 * encoding). A bad body gets a 4xx with the reason, and the viewer goes on.
 */
export function otlpReceiver({ store, logger }: { store: TraceStore; logger: Logger }): RequestListener {
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://viewer').pathname;
    if ((path === '/v1/metrics' || path === '/v1/logs') && req.method === 'POST') {
      // the backend's default metrics export lands here too: taken and let go (the viewer shows traces)
      const json = header(req, 'content-type')?.includes('json') === true;
      req.resume();
      req.once('end', () =>
        send(res, 200, json ? 'application/json' : 'application/x-protobuf', json ? '{}' : new Uint8Array()),
      );
      return;
    }
    if (path !== '/v1/traces') {
      send(res, 404, 'text/plain', 'only /v1/traces is received here');
      return;
    }
    if (req.method !== 'POST') {
      send(res, 405, 'text/plain', 'POST only', { Allow: 'POST' });
      return;
    }
    const contentType = header(req, 'content-type') ?? '';
    try {
      const body = await readBody(req, MAX_BODY_BYTES);
      const spans = decodeTraceExport({ contentType, encoding: header(req, 'content-encoding'), body });
      store.add(spans);
      if (formatOf(contentType) === 'protobuf') send(res, 200, 'application/x-protobuf', new Uint8Array());
      else send(res, 200, 'application/json', '{}');
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        send(res, 413, 'text/plain', error.message, { Connection: 'close' });
      } else if (error instanceof OtlpRequestError) {
        logger.warn({ status: error.status, reason: error.message, contentType }, 'OTLP export refused');
        send(res, error.status, 'text/plain', error.message);
      } else throw error;
    }
  }

  return function otlpRequest(req, res) {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error }, 'OTLP request failed');
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error');
      else res.destroy();
    });
  };
}
