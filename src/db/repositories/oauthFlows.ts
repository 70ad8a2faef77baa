import { sql } from 'kysely';
import type { SecretBox } from '../../crypto/secretBox';
import type { Db } from '../database';
import { bindingOf } from '../secretColumns';
import type { ConsentDecisionValue, FlowOutcome, FlowPurpose, FlowRevocation, OAuthFlow } from '../tables';

/**
 * A flow's secrets (the PKCE verifier, the authorization code) are sealed bound to this table, the flow and
 * the field: the code and the verifier of one flow cannot stand in for each other, nor for another flow's.
 */
export const sealVerifier = (box: SecretBox, flowId: string, verifier: string) => box.encrypt(verifier, bindingOf('oauth_flows', flowId, 'pkce_verifier_enc'));
export const sealCode = (box: SecretBox, flowId: string, code: string) => box.encrypt(code, bindingOf('oauth_flows', flowId, 'code_enc'));
export const openVerifier = (box: SecretBox, flow: Pick<OAuthFlow, 'id'> & { pkce_verifier_enc: string }) =>
  box.decrypt(flow.pkce_verifier_enc, bindingOf('oauth_flows', flow.id, 'pkce_verifier_enc'));
export const openCode = (box: SecretBox, flow: Pick<OAuthFlow, 'id'> & { code_enc: string }) =>
  box.decrypt(flow.code_enc, bindingOf('oauth_flows', flow.id, 'code_enc'));

/** The id is chosen by the caller so the verifier can be encrypted bound to it (sealVerifier). */
export async function insertOAuthFlow(
  db: Db,
  flow: { id: string; integrationId: string; pkceVerifierEnc: string; expiresAt: Date; purpose?: FlowPurpose; scope?: string },
): Promise<OAuthFlow> {
  return db
    .insertInto('oauth_flows')
    .values({
      id: flow.id,
      integration_id: flow.integrationId,
      pkce_verifier_enc: flow.pkceVerifierEnc,
      expires_at: flow.expiresAt,
      purpose: flow.purpose ?? 'connect',
      scope: flow.scope ?? 'read',
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Spends a state exactly once: the first callback with a live, unused flow wins; every later or late one
 * gets undefined. The authorization code is stored encrypted so it never travels through Temporal; the
 * decision is kept so a reload of the callback re-sends the same update.
 */
export async function consumeOAuthFlow(
  db: Db,
  flowId: string,
  integrationId: string,
  codeEnc: string | null,
  decision: ConsentDecisionValue,
): Promise<OAuthFlow | undefined> {
  return db
    .updateTable('oauth_flows')
    .set({ used_at: sql<Date>`now()`, code_enc: codeEnc, decision })
    .where('id', '=', flowId)
    .where('integration_id', '=', integrationId)
    .where('used_at', 'is', null)
    .where('outcome', 'is', null)
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

/** Drops a flow's stored code and nothing else: nothing will exchange it (the attempt is over). */
export async function dropFlowCode(db: Db, flowId: string): Promise<void> {
  await db.updateTable('oauth_flows').set({ code_enc: null }).where('id', '=', flowId).execute();
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

/**
 * Records how an attempt ended (the first outcome wins: a retried activity cannot overwrite it) and drops
 * whatever secret it still holds. Returns false when an outcome was already there.
 */
export async function recordFlowOutcome(db: Db, flowId: string, outcome: FlowOutcome, message: string | null): Promise<boolean> {
  const result = await db
    .updateTable('oauth_flows')
    .set({ outcome, outcome_message: message, finished_at: sql<Date>`now()`, code_enc: null, pkce_verifier_enc: null })
    .where('id', '=', flowId)
    .where('outcome', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** What Zendesk did when the grant the attempt let go was revoked. */
export async function recordFlowRevocation(db: Db, flowId: string, revocation: FlowRevocation): Promise<void> {
  await db.updateTable('oauth_flows').set({ revocation }).where('id', '=', flowId).execute();
}

/** The newest consent attempt of each integration (for the integration view). */
export async function latestFlows(db: Db, integrationIds: string[]): Promise<Map<string, OAuthFlow>> {
  if (integrationIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('oauth_flows')
    .selectAll()
    .distinctOn('integration_id')
    .where('integration_id', 'in', integrationIds)
    .orderBy('integration_id')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return new Map(rows.map((r) => [r.integration_id, r]));
}

/** An attempt whose consent arrived and whose outcome is not known yet: its workflow may be exchanging the code. */
export async function flowBeingCompleted(db: Db, integrationId: string): Promise<OAuthFlow | undefined> {
  return db
    .selectFrom('oauth_flows')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .where('used_at', 'is not', null)
    .where('outcome', 'is', null)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
}
