import { Router } from 'express';

export interface Readiness {
  /** Resolves when the service can take traffic; rejects with the reason otherwise. */
  check(): Promise<void>;
}

/** `/health`: the process is up. `/ready`: the database answers and we are not shutting down. Both untraced. */
export function healthRouter({ readiness }: { readiness: Readiness }): Router {
  const router = Router();

  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/ready', async (_req, res) => {
    try {
      await readiness.check();
      res.json({ status: 'ready' });
    } catch (error) {
      res.status(503).json({ error: { code: 'SERVICE_UNAVAILABLE', message: error instanceof Error ? error.message : 'not ready' } });
    }
  });

  return router;
}
