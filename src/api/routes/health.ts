import { Router } from 'express';
import { NOT_MODIFIED } from '../routeResponses';
import { defineRoute, mount } from '../routeSpec';
import { Health } from '../schemas';

const health = defineRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'health',
  summary: 'Liveness',
  description:
    'The process answers HTTP; nothing more. Readiness (`/readyz`) and metrics (`/metrics`) are served on the internal port (INTERNAL_PORT), not here.',
  tag: 'operations',
  security: 'none',
  responses: { 200: { description: 'The process is up', body: Health }, 304: NOT_MODIFIED },
});

export const healthRoutes = [health];

/**
 * GET /healthz on the public port: liveness only (the process answers HTTP), for a load balancer that can
 * reach nothing else. It says nothing about PostgreSQL or Temporal; readiness and metrics are on the internal
 * port (src/api/internalServer.ts).
 */
export function healthRouter(): Router {
  const router = Router();
  mount(router, health, (_req, res) => {
    res.json({ status: 'ok' });
  });
  return router;
}
