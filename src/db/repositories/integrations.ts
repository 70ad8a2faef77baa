import { sql } from 'kysely';
import { inTransaction, type Db } from '../database';
import type { Integration, IntegrationStatus, SyncRun } from '../tables';

/**
 * A new integration of an **active** tenant; undefined once the tenant is being offboarded. The tenant row is
 * read `FOR SHARE`, which waits for the offboarding's status change (and blocks it until this commits), so an
 * integration is either created before the offboard workflow lists the tenant's integrations, or not at all.
 */
export async function insertIntegration(db: Db, tenantId: string, workspace: string): Promise<Integration | undefined> {
  const run = async (trx: Db) => {
    const tenant = await trx.selectFrom('tenants').select('id').where('id', '=', tenantId).where('status', '=', 'active').forShare().executeTakeFirst();
    if (!tenant) return undefined;
    return trx
      .insertInto('integrations')
      .values({ tenant_id: tenantId, workspace, status: 'awaiting_consent', error: null, zendesk_user_id: null })
      .returningAll()
      .executeTakeFirstOrThrow();
  };
  return inTransaction(db, run);
}

/** Removes an integration row outright: one just created whose consent could not begin (nothing refers to it yet). */
export async function deleteIntegration(db: Db, id: string): Promise<void> {
  await db.deleteFrom('integrations').where('id', '=', id).execute();
}

/** The live (not disconnected) integration of a tenant for a workspace, if any. */
export async function findLiveIntegration(db: Db, tenantId: string, workspace: string): Promise<Integration | undefined> {
  return db
    .selectFrom('integrations')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('workspace', '=', workspace)
    .where('status', '<>', 'disconnected')
    .executeTakeFirst();
}

/** Scoped to the tenant: another tenant's id is indistinguishable from an unknown one. */
export async function findTenantIntegration(db: Db, tenantId: string, id: string): Promise<Integration | undefined> {
  return db.selectFrom('integrations').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

export async function findIntegration(db: Db, id: string): Promise<Integration | undefined> {
  return db.selectFrom('integrations').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Where a listing of integrations stopped: the last row's `created_at` (exact UTC text, microseconds) and id. */
export interface IntegrationPosition {
  createdAt: string;
  id: string;
}

export interface IntegrationPageQuery {
  tenantId: string;
  /** Only these statuses (never `disconnected`, which is not listed); all live ones when absent. */
  statuses?: readonly IntegrationStatus[];
  after?: IntegrationPosition;
  limit: number;
}

/**
 * One page of a tenant's live integrations, newest first (`created_at DESC, id DESC`), filtered in SQL, and
 * where the next page starts (absent on the last). A keyset walk on the partial index
 * `integrations_tenant_listing`: every page costs the same, and a row created or deleted between two pages
 * never makes another one skip or repeat. The position is PostgreSQL's own text of `created_at` (a JS Date
 * would drop the microseconds and skip or repeat rows created in the same millisecond).
 */
export async function listTenantIntegrationPage(db: Db, q: IntegrationPageQuery): Promise<{ rows: Integration[]; next?: IntegrationPosition }> {
  let query = db
    .selectFrom('integrations')
    .selectAll()
    .select(sql<string>`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('position_created_at'))
    .where('tenant_id', '=', q.tenantId)
    .where('status', '<>', 'disconnected');
  if (q.statuses) query = query.where('status', 'in', [...q.statuses]);
  if (q.after) query = query.where(sql<boolean>`(created_at, id) < (${q.after.createdAt}::timestamptz, ${q.after.id}::uuid)`);
  const found = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(q.limit + 1)
    .execute();
  const page = found.slice(0, q.limit);
  const rows = page.map(({ position_created_at: _p, ...row }) => row);
  const last = page.at(-1);
  return { rows, next: found.length > q.limit && last ? { createdAt: last.position_created_at, id: last.id } : undefined };
}

export interface StatusChange {
  status: IntegrationStatus;
  error?: string | null;
  zendeskUserId?: number | null;
  /** Only change when the current status is one of these (guards against late, stale transitions). */
  onlyFrom?: IntegrationStatus[];
}

/** Returns false when the guard did not match (nothing changed). */
export async function setIntegrationStatus(db: Db, id: string, change: StatusChange): Promise<boolean> {
  let query = db
    .updateTable('integrations')
    .set({
      status: change.status,
      error: change.error ?? null,
      updated_at: sql<Date>`now()`,
      ...(change.status === 'connected' ? { connected_at: sql<Date>`now()` } : {}),
      ...(change.zendeskUserId !== undefined ? { zendesk_user_id: change.zendeskUserId } : {}),
    })
    .where('id', '=', id);
  if (change.onlyFrom) query = query.where('status', 'in', change.onlyFrom);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The newest sync run of each integration, for the Integration view. */
export async function latestSyncRuns(db: Db, integrationIds: string[]): Promise<Map<string, SyncRun>> {
  if (integrationIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('sync_runs')
    .selectAll()
    .distinctOn('integration_id')
    .where('integration_id', 'in', integrationIds)
    .orderBy('integration_id')
    .orderBy('started_at', 'desc')
    .execute();
  return new Map(rows.map((r) => [r.integration_id, r]));
}

/** The integration's row, locked until the surrounding transaction ends (pass a transaction as `db`). */
export async function lockIntegration(db: Db, id: string): Promise<Integration | undefined> {
  return db.selectFrom('integrations').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/** Changes an integration's settings (PATCH …/settings); only the fields given. */
export async function updateIntegrationSettings(
  db: Db,
  id: string,
  settings: { syncEndUsers?: boolean; maxBudgetShare?: number; reclaim?: Record<string, unknown> },
): Promise<void> {
  await db
    .updateTable('integrations')
    .set({
      ...(settings.syncEndUsers !== undefined ? { sync_end_users: settings.syncEndUsers } : {}),
      ...(settings.maxBudgetShare !== undefined ? { max_budget_share: settings.maxBudgetShare } : {}),
      ...(settings.reclaim !== undefined ? { reclaim_settings: JSON.stringify(settings.reclaim) } : {}),
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .execute();
}

/** Marks the integration changed (its report-cache entries drop: report_changes_row), e.g. when seats were freed. */
export async function touchIntegration(db: Db, id: string): Promise<void> {
  await db
    .updateTable('integrations')
    .set({ updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .execute();
}
