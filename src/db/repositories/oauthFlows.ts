import { sql } from 'kysely';
import type { Db } from '../database';
import type { OAuthFlow } from '../tables';

/** The id is chosen by the caller so the verifier can be encrypted bound to it. */
export async function insertOAuthFlow(db: Db, flow: { id: string; integrationId: string; pkceVerifierEnc: string; expiresAt: Date }): Promise<OAuthFlow> {
  return db
    .insertInto('oauth_flows')
    .values({ id: flow.id, integration_id: flow.integrationId, pkce_verifier_enc: flow.pkceVerifierEnc, expires_at: flow.expiresAt })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Spends a state exactly once: the first callback with a live, unused flow wins; every later or late one
 * gets undefined. The authorization code is stored encrypted so it never travels through Temporal.
 */
export async function consumeOAuthFlow(db: Db, flowId: string, integrationId: string, codeEnc: string | null): Promise<OAuthFlow | undefined> {
  return db
    .updateTable('oauth_flows')
    .set({ used_at: sql<Date>`now()`, code_enc: codeEnc })
    .where('id', '=', flowId)
    .where('integration_id', '=', integrationId)
    .where('used_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .returningAll()
    .executeTakeFirst();
}

export async function findOAuthFlow(db: Db, flowId: string): Promise<OAuthFlow | undefined> {
  return db.selectFrom('oauth_flows').selectAll().where('id', '=', flowId).executeTakeFirst();
}

/** After the exchange the code and verifier are useless; drop them. */
export async function markFlowExchanged(db: Db, flowId: string): Promise<void> {
  await db
    .updateTable('oauth_flows')
    .set({ exchanged_at: sql<Date>`now()`, code_enc: null, pkce_verifier_enc: null })
    .where('id', '=', flowId)
    .execute();
}

/** Unused flows of an integration stop working (a reconnect or delete supersedes them). */
export async function expireOpenFlows(db: Db, integrationId: string): Promise<void> {
  await db
    .updateTable('oauth_flows')
    .set({ expires_at: sql<Date>`now()`, pkce_verifier_enc: null, code_enc: null })
    .where('integration_id', '=', integrationId)
    .where('used_at', 'is', null)
    .execute();
}
