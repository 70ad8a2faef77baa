import type { SecretBox } from '../../crypto/secretBox';
import type { Db } from '../database';
import { bindingOf } from '../secretColumns';
import type { StagedKind } from '../tables';
import type { TokenSet } from './credentials';

/**
 * Tokens of one consent attempt kept apart from the integration's working ones (`oauth_credentials`), one row
 * per flow: `incoming` until their user is verified as an admin and they are swapped in, `replaced` (the grant
 * the swap took out) until it is revoked. Sealed with SecretBox bound to this table, the flow and the field, so a
 * value copied elsewhere (another flow, `oauth_credentials`, or the other token of the row) does not decrypt.
 */

export interface StagedCredentials extends TokenSet {
  kind: StagedKind;
  integrationId: string;
}

const access = (flowId: string) => bindingOf('oauth_staged_credentials', flowId, 'access_token_enc');
const refresh = (flowId: string) => bindingOf('oauth_staged_credentials', flowId, 'refresh_token_enc');

function sealed(box: SecretBox, flowId: string, tokens: TokenSet) {
  return {
    access_token_enc: box.encrypt(tokens.accessToken, access(flowId)),
    refresh_token_enc: tokens.refreshToken === null ? null : box.encrypt(tokens.refreshToken, refresh(flowId)),
    access_expires_at: tokens.accessExpiresAt,
    refresh_expires_at: tokens.refreshExpiresAt,
    scope: tokens.scope,
  };
}

/** Stores the tokens an attempt's code was exchanged for (a retry of the exchange finds them there). */
export async function stageIncomingCredentials(db: Db, box: SecretBox, flowId: string, integrationId: string, tokens: TokenSet): Promise<void> {
  const values = sealed(box, flowId, tokens);
  await db
    .insertInto('oauth_staged_credentials')
    .values({ flow_id: flowId, integration_id: integrationId, kind: 'incoming', ...values })
    .onConflict((oc) => oc.column('flow_id').doUpdateSet(values))
    .execute();
}

/** Puts the replaced grant's tokens where the incoming ones were (the swap's second half). */
export async function stageReplacedCredentials(db: Db, box: SecretBox, flowId: string, tokens: TokenSet): Promise<void> {
  await db
    .updateTable('oauth_staged_credentials')
    .set({ kind: 'replaced', ...sealed(box, flowId, tokens) })
    .where('flow_id', '=', flowId)
    .execute();
}

/** The attempt's staged tokens, decrypted. `forUpdate` locks the row until the transaction ends. */
export async function loadStagedCredentials(
  db: Db,
  box: SecretBox,
  flowId: string,
  options: { forUpdate?: boolean } = {},
): Promise<StagedCredentials | undefined> {
  let query = db.selectFrom('oauth_staged_credentials').selectAll().where('flow_id', '=', flowId);
  if (options.forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) return undefined;
  return {
    kind: row.kind,
    integrationId: row.integration_id,
    accessToken: box.decrypt(row.access_token_enc, access(flowId)),
    refreshToken: row.refresh_token_enc === null ? null : box.decrypt(row.refresh_token_enc, refresh(flowId)),
    accessExpiresAt: row.access_expires_at,
    refreshExpiresAt: row.refresh_expires_at,
    scope: row.scope,
  };
}

export async function deleteStagedCredentials(db: Db, flowId: string): Promise<void> {
  await db.deleteFrom('oauth_staged_credentials').where('flow_id', '=', flowId).execute();
}

/** The consent attempts of an integration that still hold staged tokens. */
export async function stagedFlowIds(db: Db, integrationId: string): Promise<string[]> {
  const rows = await db.selectFrom('oauth_staged_credentials').select('flow_id').where('integration_id', '=', integrationId).execute();
  return rows.map((r) => r.flow_id);
}
