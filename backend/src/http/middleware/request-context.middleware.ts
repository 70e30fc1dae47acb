import type { NextFunction, Request, Response } from 'express';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { getEnv, traceViewerUrl as viewerUrlFromEnv } from '../../config/env';
import { REQUEST_ID_HEADER, activeTraceId, getRequestId, resolveRequestId, setRequestId } from '../../telemetry';
import type { Logger } from '../../utils/logger';
import { routeTemplate } from './route.middleware';

export interface RequestContextOptions {
  logger: Logger;
  /** True once shutdown has begun: responses then close their connection. */
  isDraining?: () => boolean;
  /**
   * Base URL of the local trace viewer: a sampled request's access-log line then carries
   * `trace_url` (`<base>/trace/<traceId>`). Default: `traceViewerUrl()` of the environment
   * (development only).
   */
  traceViewerUrl?: string;
}

/**
 * Gives every response `x-request-id` and, when tracing is on, `x-trace-id` (so a user
 * can hand support the trace of a failed call), and writes one access-log line per
 * request when it ends. The request id normally arrives through the propagator; on
 * untraced paths or with tracing disabled this middleware puts it on the context.
 * In development the line links the trace in the local viewer, for a click from the terminal.
 */
export function requestContext({
  logger,
  isDraining = () => false,
  traceViewerUrl = viewerUrlFromEnv(getEnv()),
}: RequestContextOptions) {
  return function requestContextMiddleware(req: Request, res: Response, next: NextFunction): void {
    const active = context.active();
    let ctx = active;
    let requestId = getRequestId(ctx);
    if (requestId === undefined) {
      requestId = resolveRequestId(req.headers[REQUEST_ID_HEADER]);
      ctx = setRequestId(ctx, requestId);
      context.bind(ctx, req);
      context.bind(ctx, res);
    }
    res.locals.requestId = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const traceId = activeTraceId(ctx);
    if (traceId !== undefined) res.setHeader('x-trace-id', traceId);
    const sampled = ((trace.getSpan(ctx)?.spanContext().traceFlags ?? 0) & TraceFlags.SAMPLED) !== 0;
    const traceUrl =
      traceViewerUrl !== undefined && traceId !== undefined && sampled
        ? `${traceViewerUrl}/trace/${traceId}`
        : undefined;
    if (isDraining()) res.setHeader('connection', 'close');

    const started = process.hrtime.bigint();
    if (logger.isLevelEnabled('debug'))
      context.with(ctx, () =>
        logger.debug({ method: req.method, path: req.originalUrl.split('?', 1)[0] }, 'request started'),
      );
    res.once('close', () => {
      const status = res.writableFinished ? res.statusCode : 499;
      const line = {
        method: req.method,
        route: (res.locals.route as string | undefined) ?? routeTemplate(req),
        path: req.originalUrl.split('?', 1)[0],
        status,
        duration_ms: Number(process.hrtime.bigint() - started) / 1e6,
        request_id: requestId,
        user_id: res.locals.userId as string | undefined,
        ...(traceUrl !== undefined ? { trace_url: traceUrl } : {}),
      };
      if (status >= 500) logger.error(line, 'request failed');
      else logger.info(line, res.writableFinished ? 'request completed' : 'request aborted by client');
    });
    // the id came with the request's context (the usual case): it is already the active one
    if (ctx === active) next();
    else context.with(ctx, next);
  };
}
