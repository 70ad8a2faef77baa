import { sql } from 'kysely';
import type { Db } from '../database';

/**
 * Announces `integration.grant_expiring` for a grant whose refresh token lapses at `refreshExpiresAt`, once
 * per expiry: one statement notes the expiry on the credentials row and records the event (webhook_emit, the
 * outbox of migration 20261209T090000), so the two happen together or not at all, and a second sync of the
 * same last days finds the expiry noted and sends nothing. A grant renewed meanwhile (another expiry) sends
 * nothing either: the warning is about a grant that is no longer the stored one.
 * Returns whether the event was recorded (false too when no endpoint of the tenant subscribes).
 */
export async function announceGrantExpiring(db: Db, integrationId: string, refreshExpiresAt: Date, daysLeft: number): Promise<boolean> {
  const { rows } = await sql<{ noted: boolean }>`
    WITH noted AS (
      UPDATE oauth_credentials c SET expiry_notice_for = c.refresh_expires_at
        FROM integrations i
       WHERE c.integration_id = ${integrationId} AND i.id = c.integration_id
         AND c.refresh_expires_at = ${refreshExpiresAt}
         AND c.expiry_notice_for IS DISTINCT FROM c.refresh_expires_at
      RETURNING i.tenant_id, i.id, i.workspace, c.refresh_expires_at
    )
    SELECT webhook_emit(tenant_id, 'integration.grant_expiring', jsonb_build_object(
             'integrationId', id, 'workspace', workspace,
             'refreshExpiresAt', to_char(refresh_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'daysLeft', ${daysLeft}::int)) IS NULL AS noted
      FROM noted`.execute(db);
  return rows.length > 0;
}
