import { Kysely, sql } from 'kysely';

/**
 * `integration.grant_expiring` (issue 18): the grant's refresh token is days from lapsing and could not be
 * renewed (src/activities/grantKeepAlive.ts). `expiry_notice_for` is the expiry an event was sent for, so each
 * sync of those last days does not announce it again; a renewed grant has a new expiry, and can be announced
 * again when that one comes close.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE oauth_credentials ADD COLUMN expiry_notice_for timestamptz`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE oauth_credentials DROP COLUMN expiry_notice_for`.execute(db);
}
