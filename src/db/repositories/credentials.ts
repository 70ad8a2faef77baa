import { sql } from 'kysely';
import type { SecretBox } from '../../crypto/secretBox';
import type { Db } from '../database';
import { bindingOf } from '../secretColumns';

/**
 * Encrypted OAuth credentials of an integration. Each token is sealed with SecretBox, bound to this table,
 * the integration id and its field (associated data): a row copied to another integration, or the access
 * token swapped with the refresh token, does not decrypt.
 */

const access = (integrationId: string) => bindingOf('oauth_credentials', integrationId, 'access_token_enc');
const refresh = (integrationId: string) => bindingOf('oauth_credentials', integrationId, 'refresh_token_enc');

export interface TokenSet {
  accessToken: string;
  refreshToken: string | null;
  accessExpiresAt: Date | null;
  refreshExpiresAt: Date | null;
  scope: string;
}

export interface StoredCredentials extends TokenSet {
  /** Bumped on every save: tells whether someone else rotated the tokens meanwhile. */
  version: number;
  /** When this pair was saved (about when it was issued). */
  updatedAt: Date;
}

/** Inserts or replaces the integration's tokens; returns the new version. */
export async function saveCredentials(db: Db, box: SecretBox, integrationId: string, tokens: TokenSet): Promise<number> {
  return (await saveCredentialsReturning(db, box, integrationId, tokens)).version;
}

/** saveCredentials, returning the new version and save time. */
export async function saveCredentialsReturning(db: Db, box: SecretBox, integrationId: string, tokens: TokenSet): Promise<{ version: number; updatedAt: Date }> {
  const values = {
    integration_id: integrationId,
    access_token_enc: box.encrypt(tokens.accessToken, access(integrationId)),
    refresh_token_enc: tokens.refreshToken === null ? null : box.encrypt(tokens.refreshToken, refresh(integrationId)),
    access_expires_at: tokens.accessExpiresAt,
    refresh_expires_at: tokens.refreshExpiresAt,
    scope: tokens.scope,
  };
  const row = await db
    .insertInto('oauth_credentials')
    .values(values)
    .onConflict((oc) =>
      oc.column('integration_id').doUpdateSet({
        access_token_enc: values.access_token_enc,
        refresh_token_enc: values.refresh_token_enc,
        access_expires_at: values.access_expires_at,
        refresh_expires_at: values.refresh_expires_at,
        scope: values.scope,
        version: sql<number>`oauth_credentials.version + 1`,
        updated_at: sql<Date>`now()`,
      }),
    )
    .returning(['version', 'updated_at'])
    .executeTakeFirstOrThrow();
  return { version: row.version, updatedAt: row.updated_at };
}

/**
 * The integration's tokens, decrypted, or undefined when none are stored. `forUpdate` locks the row
 * until the surrounding transaction ends (pass a transaction as `db`).
 */
export async function loadCredentials(
  db: Db,
  box: SecretBox,
  integrationId: string,
  options: { forUpdate?: boolean } = {},
): Promise<StoredCredentials | undefined> {
  let query = db.selectFrom('oauth_credentials').selectAll().where('integration_id', '=', integrationId);
  if (options.forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) return undefined;
  return {
    accessToken: box.decrypt(row.access_token_enc, access(integrationId)),
    refreshToken: row.refresh_token_enc === null ? null : box.decrypt(row.refresh_token_enc, refresh(integrationId)),
    accessExpiresAt: row.access_expires_at,
    refreshExpiresAt: row.refresh_expires_at,
    scope: row.scope,
    version: row.version,
    updatedAt: row.updated_at,
  };
}

/** When each integration's refresh token expires (no secret is read): for the API's integration view. */
export async function grantSummaries(db: Db, integrationIds: string[]): Promise<Map<string, { refreshExpiresAt: Date | null; scope: string }>> {
  if (integrationIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('oauth_credentials')
    .select(['integration_id', 'refresh_expires_at', 'scope'])
    .where('integration_id', 'in', integrationIds)
    .execute();
  return new Map(rows.map((r) => [r.integration_id, { refreshExpiresAt: r.refresh_expires_at, scope: r.scope }]));
}

/** Deletes the integration's tokens; true when there were some. */
export async function deleteCredentials(db: Db, integrationId: string): Promise<boolean> {
  const result = await db.deleteFrom('oauth_credentials').where('integration_id', '=', integrationId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
