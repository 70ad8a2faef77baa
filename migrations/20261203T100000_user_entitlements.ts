import { Kysely, sql } from 'kysely';

/**
 * A light agent or contributor takes a paid seat when they also hold a seat-requiring role in another
 * product (Chat agent, Guide agent/admin, Explore admin/editor; docs/zendesk.md, seats). The sync reads
 * `GET /api/v2/users/{id}/entitlements/full` for them and keeps, on the user:
 * - `entitlements`: Zendesk's answer as sent (unknown products and role names included);
 * - `entitlement_seat`: what it means for the seat (`paid`, `free`, `unknown`), NULL while never read;
 * - `entitlement_reason`: why, in words ("a Chat agent role");
 * - `entitlements_checked_at` / `entitlements_user_updated_at`: when, and the user's `updated_at` then
 *   (a changed user is read again; all of them again weekly, since Zendesk does not document whether a
 *   role change in another product moves `updated_at`).
 * The users stream never writes these columns. `integrations.entitlements_status` says whether the account
 * lets the worker read entitlements (`available`, `forbidden`), NULL until tried.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE zendesk_users
      ADD COLUMN entitlements jsonb,
      ADD COLUMN entitlement_seat text,
      ADD COLUMN entitlement_reason text,
      ADD COLUMN entitlements_checked_at timestamptz,
      ADD COLUMN entitlements_user_updated_at timestamptz`.execute(db);
  await sql`ALTER TABLE integrations ADD COLUMN entitlements_status text`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE integrations DROP COLUMN entitlements_status`.execute(db);
  await sql`
    ALTER TABLE zendesk_users
      DROP COLUMN entitlements, DROP COLUMN entitlement_seat, DROP COLUMN entitlement_reason,
      DROP COLUMN entitlements_checked_at, DROP COLUMN entitlements_user_updated_at`.execute(db);
}
