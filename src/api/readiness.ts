import { sql } from 'kysely';
import type { ReadyState } from '../observability/metricsServer';
import type { ApiDeps } from './deps';

/** The API is ready while PostgreSQL and Temporal both answer (Temporal within 2 s). */
export async function apiReadiness(deps: Pick<ApiDeps, 'db' | 'temporal'>): Promise<ReadyState> {
  const checks: Record<'postgres' | 'temporal', 'ok' | 'unreachable'> = { postgres: 'unreachable', temporal: 'unreachable' };
  await Promise.all([
    sql`select 1`.execute(deps.db).then(
      () => (checks.postgres = 'ok'),
      () => (checks.postgres = 'unreachable'),
    ),
    deps.temporal
      .withDeadline(Date.now() + 2_000, () => deps.temporal.connection.workflowService.getSystemInfo({}))
      .then(
        () => (checks.temporal = 'ok'),
        () => (checks.temporal = 'unreachable'),
      ),
  ]);
  return { ready: Object.values(checks).every((v) => v === 'ok'), checks: { postgres: checks.postgres, temporal: checks.temporal } };
}
