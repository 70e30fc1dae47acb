import cors from 'cors';
import type { RequestHandler } from 'express';

/** Outside production, with CORS_ORIGINS unset: a front end served from any local port. */
export const DEVELOPMENT_ORIGINS = 'http://localhost:*,http://127.0.0.1:*';

/** Whether a browser at `origin` may call us. Requests without an Origin (curl, servers, apps) are not CORS. */
export type OriginPolicy = (origin: string | undefined) => boolean;

/**
 * The origins of CORS_ORIGINS (comma separated, `:*` for any port); unset, none in
 * production and the local development origins otherwise.
 */
export function originPolicy(options: { origins: string | undefined; production: boolean }): OriginPolicy {
  const list = (options.origins ?? (options.production ? '' : DEVELOPMENT_ORIGINS))
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean);
  const exact = new Set(list.filter((entry) => !entry.endsWith(':*')));
  const anyPort = list.filter((entry) => entry.endsWith(':*')).map((entry) => entry.slice(0, -2));
  return (origin) => {
    if (origin === undefined) return true;
    const normalized = origin.toLowerCase();
    if (exact.has(normalized)) return true;
    // `http://localhost:*` matches http://localhost and http://localhost:5173, not http://localhost.evil.com
    return anyPort.some(
      (base) =>
        normalized === base ||
        (normalized.startsWith(`${base}:`) && /^\d{1,5}$/.test(normalized.slice(base.length + 1))),
    );
  };
}

/**
 * CORS for the HTTP API: allowed origins get the `Access-Control-*` headers (preflights
 * answered with 204), others get none and the browser refuses. No cookies are used, so
 * no credentials are allowed; the headers a client reads are exposed.
 */
export function corsMiddleware(allowed: OriginPolicy): RequestHandler {
  return cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed(origin)),
    exposedHeaders: ['x-request-id', 'x-trace-id', 'retry-after', 'idempotent-replayed', 'www-authenticate'],
    maxAge: 600,
  });
}
