import { sql } from 'kysely';
import type { Db } from '../database';

/** The offboard workflow's reads: a tenant's integrations a page at a time, and whether one still holds anything. */

/** Every integration of the tenant, whatever its state, by id after `after`; `next` when more follow. */
export async function tenantIntegrationPage(db: Db, tenantId: string, after: string | undefined, limit: number): Promise<{ ids: string[]; next?: string }> {
  let query = db.selectFrom('integrations').select('id').where('tenant_id', '=', tenantId);
  if (after) query = query.where('id', '>', after);
  const rows = await query
    .orderBy('id')
    .limit(limit + 1)
    .execute();
  const ids = rows.slice(0, limit).map((r) => r.id);
  return { ids, next: rows.length > limit ? ids.at(-1) : undefined };
}

/**
 * Whether the integration is disconnected with nothing left to delete: no tokens (working or staged), no
 * synced users, ticket events or checkpoints. Such an integration needs no disconnect workflow at all.
 */
export async function fullyGone(db: Db, integrationId: string): Promise<boolean> {
  const row = await sql<{ gone: boolean }>`
    SELECT (i.status = 'disconnected'
        AND NOT EXISTS (SELECT 1 FROM oauth_credentials WHERE integration_id = i.id)
        AND NOT EXISTS (SELECT 1 FROM oauth_staged_credentials WHERE integration_id = i.id)
        AND NOT EXISTS (SELECT 1 FROM zendesk_users WHERE integration_id = i.id)
        AND NOT EXISTS (SELECT 1 FROM ticket_events WHERE integration_id = i.id)
        AND NOT EXISTS (SELECT 1 FROM sync_checkpoints WHERE integration_id = i.id)) AS gone
      FROM integrations i WHERE i.id = ${integrationId}::uuid`.execute(db);
  return row.rows[0]?.gone ?? true;
}
