import { readFile } from 'node:fs/promises';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import path from 'node:path';
import type { Logger } from 'pino';
import { send, sendError, sendJson } from './http';
import type { TraceStore } from './store';

/** The UI's files: a fixed list, so no request path ever reaches the file system. */
const ASSETS: Record<string, { file: string; type: string }> = {
  '/ui/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/ui/nav.js': { file: 'nav.js', type: 'text/javascript; charset=utf-8' },
  '/ui/list.js': { file: 'list.js', type: 'text/javascript; charset=utf-8' },
  '/ui/trace.js': { file: 'trace.js', type: 'text/javascript; charset=utf-8' },
  '/ui/ai.js': { file: 'ai.js', type: 'text/javascript; charset=utf-8' },
  '/ui/render.js': { file: 'render.js', type: 'text/javascript; charset=utf-8' },
  '/ui/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

/**
 * Span data is untrusted (any process may export to the receiver): the page builds its
 * DOM from text nodes only, and this policy forbids inline and foreign scripts besides.
 */
const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

const TRACE_PAGE = /^\/trace\/([^/]+)$/;
const TRACE_API = /^\/api\/traces\/([^/]+)$/;

function parseLimit(value: string | null): number | undefined {
  if (value === null || value === '') return 100;
  const limit = Number(value);
  return Number.isInteger(limit) && limit >= 1 && limit <= 10_000 ? limit : undefined;
}

function hostnameOf(req: IncomingMessage): string | undefined {
  try {
    return new URL(`http://${req.headers.host ?? ''}`).hostname;
  } catch {
    return undefined;
  }
}

/**
 * The web UI (`/`, `/trace/<id>`) and its JSON API (`/api/...`). With `allowedHosts`,
 * a request naming another host is refused: on loopback that stops a web page from
 * reading the traces through DNS rebinding.
 */
export function uiServer({
  store,
  uiDir,
  logger,
  allowedHosts,
}: {
  store: TraceStore;
  uiDir: string;
  logger: Logger;
  allowedHosts?: readonly string[];
}): RequestListener {
  const page = async (res: ServerResponse): Promise<void> => {
    send(res, 200, 'text/html; charset=utf-8', await readFile(path.join(uiDir, 'index.html')), {
      ...SECURITY_HEADERS,
      'Cache-Control': 'no-store',
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://viewer');
    if (allowedHosts !== undefined && !allowedHosts.includes(hostnameOf(req) ?? '')) {
      sendError(res, 403, 'forbidden_host', 'the viewer answers requests for its own host name only');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, 405, 'method_not_allowed', 'the viewer only answers GET');
      return;
    }
    const asset = ASSETS[url.pathname];
    if (asset !== undefined) {
      // read per request: a development tool, edited while it runs
      send(res, 200, asset.type, await readFile(path.join(uiDir, asset.file)), {
        ...SECURITY_HEADERS,
        'Cache-Control': 'no-cache',
      });
      return;
    }
    if (url.pathname === '/' || TRACE_PAGE.test(url.pathname)) {
      await page(res);
      return;
    }
    if (url.pathname === '/api/traces') {
      const limit = parseLimit(url.searchParams.get('limit'));
      if (limit === undefined) {
        sendError(res, 400, 'invalid_query', 'limit must be an integer between 1 and 10000');
        return;
      }
      const param = (name: string) => url.searchParams.get(name)?.trim() || undefined;
      sendJson(res, 200, {
        ...store.list({
          service: param('service'),
          operation: param('operation'),
          error: param('error') === 'true',
          search: param('q'),
          limit,
        }),
        stats: store.stats(),
      });
      return;
    }
    const traceApi = TRACE_API.exec(url.pathname);
    if (traceApi?.[1] !== undefined) {
      const trace = store.get(traceApi[1]);
      if (trace === undefined)
        sendError(
          res,
          404,
          'trace_not_found',
          'no trace with this id is held (it may not have arrived yet, or was evicted)',
        );
      else sendJson(res, 200, trace);
      return;
    }
    if (url.pathname === '/api/stats') {
      sendJson(res, 200, { ...store.stats(), rssBytes: process.memoryUsage.rss() });
      return;
    }
    sendError(res, 404, 'not_found', `nothing at ${url.pathname}`);
  }

  return function uiRequest(req, res) {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error, path: req.url }, 'UI request failed');
      if (!res.headersSent) sendError(res, 500, 'internal', 'the viewer failed to answer');
      else res.destroy();
    });
  };
}
