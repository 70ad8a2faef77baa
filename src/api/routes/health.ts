import { Router } from 'express';

/**
 * GET /healthz on the public port: liveness only (the process answers HTTP), for a load balancer that can
 * reach nothing else. It says nothing about PostgreSQL or Temporal; readiness and metrics are on the internal
 * port (src/api/internalServer.ts).
 */
export function healthRouter(): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  return router;
}
