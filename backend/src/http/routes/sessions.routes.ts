import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { userIdOf } from '../middleware/auth.middleware';
import type { SessionsService } from '../../services/sessions.service';
import type { UsageService } from '../../services/usage.service';
import { ATTR_SESSION_ID, annotateServerSpan } from '../../telemetry';
import { createSessionSchema, listSessionsQuerySchema, parseBody, sessionIdSchema } from '../schemas';

/**
 * Validates `:sessionId` and records it as `session.id`. A route middleware rather than
 * `router.param`, which runs before the route is matched and would leave the server
 * span named after the router's mount path instead of the route.
 */
export function sessionIdParam(req: Request, _res: Response, next: NextFunction): void {
  const sessionId = sessionIdSchema.parse(req.params.sessionId);
  annotateServerSpan({ [ATTR_SESSION_ID]: sessionId });
  next();
}

/** `guard`: the middlewares every route runs first (authentication, JSON body). */
export function sessionsRouter({
  sessions,
  usage,
  guard,
}: {
  sessions: SessionsService;
  usage: UsageService;
  guard: RequestHandler[];
}): Router {
  const router = Router();

  router.post('/', ...guard, async (req, res) => {
    const input = parseBody(createSessionSchema, req.body);
    res.status(201).json(await sessions.create(userIdOf(res), input));
  });

  router.get('/', ...guard, async (req, res) => {
    const { limit } = listSessionsQuerySchema.parse(req.query);
    res.json({ sessions: await sessions.list(userIdOf(res), limit) });
  });

  router.get('/:sessionId', ...guard, sessionIdParam, async (req, res) => {
    res.json(await sessions.getWithMessages(userIdOf(res), req.params.sessionId as string));
  });

  router.get('/:sessionId/usage', ...guard, sessionIdParam, async (req, res) => {
    res.json(await usage.session(userIdOf(res), req.params.sessionId as string));
  });

  return router;
}
