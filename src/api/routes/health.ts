import { Router } from 'express';
import { sql } from 'kysely';
import type { ApiDeps } from '../deps';

/** /healthz: the process is up. /readyz: PostgreSQL and Temporal answer. */
export function healthRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const checks: Record<string, 'ok' | 'unreachable'> = {};
    await Promise.all([
      sql`select 1`.execute(deps.db).then(() => (checks.postgres = 'ok'), () => (checks.postgres = 'unreachable')),
      deps.temporal.withDeadline(Date.now() + 2_000, () => deps.temporal.connection.workflowService.getSystemInfo({}))
        .then(() => (checks.temporal = 'ok'), () => (checks.temporal = 'unreachable')),
    ]);
    const ready = Object.values(checks).every((v) => v === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  return router;
}
