import { Router } from 'express';
import { isAppError } from '../../errors/app-error';
import type { Logger } from '../../utils/logger';

export interface Readiness {
  /** Resolves when the service can take traffic; rejects with the reason otherwise (an AppError when expected). */
  check(): Promise<void>;
}

/** `/health`: the process is up. `/ready`: the database answers and we are not shutting down. Both untraced. */
export function healthRouter({ readiness, logger }: { readiness: Readiness; logger: Logger }): Router {
  const router = Router();

  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/ready', async (_req, res) => {
    try {
      await readiness.check();
      res.json({ status: 'ready' });
    } catch (error) {
      // the cause (hosts, users) is for the log, not for an unauthenticated caller; an
      // expected state (an AppError: draining) is not worth a warning per probe
      if (isAppError(error)) logger.debug({ reason: error.message }, 'not ready');
      else logger.warn({ err: error }, 'not ready');
      res.status(503).json({ error: { code: 'SERVICE_UNAVAILABLE', message: 'not ready' } });
    }
  });

  return router;
}
