import type { NextFunction, Request, Response } from 'express';
import { reportError } from '../../errors/report';
import { recordError, serverSpan } from '../../telemetry';
import type { Logger } from '../../utils/logger';

/** The one place HTTP errors become responses: `{error:{code,message}}` with the catalogue's status. */
export function errorHandler({ logger }: { logger: Logger }) {
  return function errorHandlerMiddleware(error: unknown, _req: Request, res: Response, _next: NextFunction): void {
    const appError = reportError(logger, error, { message: 'request failed' });
    if (appError.status >= 500) {
      const span = serverSpan();
      if (span !== undefined) recordError(span, error);
    }
    if (res.headersSent) {
      // the response is half written: the only honest thing left is to cut it
      res.destroy(error instanceof Error ? error : undefined);
      return;
    }
    if (appError.code === 'UNAUTHORIZED') res.setHeader('www-authenticate', 'Bearer');
    for (const [name, value] of Object.entries(appError.headers)) res.setHeader(name, value);
    res.status(appError.status).json(appError.toBody());
  };
}

/** Routes nobody serves. */
export function notFound() {
  return function notFoundMiddleware(req: Request, res: Response): void {
    res.status(404).json({ error: { code: 'NOT_FOUND', message: `no route for ${req.method} ${req.path}` } });
  };
}
