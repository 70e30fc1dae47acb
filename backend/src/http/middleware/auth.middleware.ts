import type { NextFunction, Request, Response } from 'express';
import type { TokenVerifier } from '../../auth/tokens';
import { AppError } from '../../errors/app-error';
import { ATTR_ENDUSER_ID, annotateServerSpan } from '../../telemetry';

const BEARER = /^Bearer[ ]+([A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_.+/=]*)[ ]*$/i;

/** Requires `Authorization: Bearer <JWT>`; the token's `sub` becomes `res.locals.userId` and `enduser.id`. */
export function authenticate({ verifier }: { verifier: TokenVerifier }) {
  return async function authenticateMiddleware(req: Request, res: Response, next: NextFunction): Promise<void> {
    const match = BEARER.exec(req.headers.authorization ?? '');
    if (!match?.[1]) throw new AppError('UNAUTHORIZED');
    const userId = await verifier.verify(match[1]);
    res.locals.userId = userId;
    annotateServerSpan({ [ATTR_ENDUSER_ID]: userId });
    next();
  };
}

/** The authenticated user of a request that passed `authenticate`. */
export function userIdOf(res: Response): string {
  const userId = res.locals.userId as string | undefined;
  if (userId === undefined) throw new AppError('UNAUTHORIZED');
  return userId;
}
