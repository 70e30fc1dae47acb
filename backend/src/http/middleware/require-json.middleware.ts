import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../../errors/app-error';

/** A request that carries a body must say it is JSON: a form or text body gets 415, not a confusing validation error. */
export function requireJson() {
  return function requireJsonMiddleware(req: Request, _res: Response, next: NextFunction): void {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (hasBody && !req.is('application/json')) throw new AppError('UNSUPPORTED_MEDIA_TYPE');
    next();
  };
}
