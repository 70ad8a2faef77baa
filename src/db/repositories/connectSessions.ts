import type { Db } from '../database';
import type { ConnectSession, FlowOutcome } from '../tables';

/** A session with what the page needs besides: its tenant's names and the outcome of its latest consent attempt. */
export interface ConnectSessionView extends ConnectSession {
  tenant_name: string;
  tenant_display_name: string | null;
  tenant_status: string;
  flow_outcome: FlowOutcome | null;
}

export async function insertConnectSession(
  db: Db,
  s: {
    tenantId: string;
    tokenHash: string;
    workspace: string | null;
    access: 'read' | 'reclaim';
    returnUrl: string | null;
    allowedOrigin: string | null;
    expiresAt: Date;
  },
): Promise<ConnectSession> {
  return db
    .insertInto('connect_sessions')
    .values({
      tenant_id: s.tenantId,
      token_hash: s.tokenHash,
      workspace: s.workspace,
      access: s.access,
      return_url: s.returnUrl,
      allowed_origin: s.allowedOrigin,
      expires_at: s.expiresAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

const sessionView = (db: Db) =>
  db
    .selectFrom('connect_sessions as s')
    .innerJoin('tenants as t', 't.id', 's.tenant_id')
    .leftJoin('oauth_flows as f', 'f.id', 's.flow_id')
    .selectAll('s')
    .select(['t.name as tenant_name', 't.display_name as tenant_display_name', 't.status as tenant_status', 'f.outcome as flow_outcome']);

export async function findConnectSessionByHash(db: Db, tokenHash: string): Promise<ConnectSessionView | undefined> {
  return sessionView(db).where('s.token_hash', '=', tokenHash).executeTakeFirst();
}

/** The session whose Submit began consent attempt `flowId`, if any (the OAuth callback's question). */
export async function findConnectSessionOfFlow(db: Db, flowId: string): Promise<ConnectSessionView | undefined> {
  return sessionView(db).where('s.flow_id', '=', flowId).executeTakeFirst();
}

/** Records the integration and consent attempt a Submit began (a later Submit replaces them). */
export async function linkConnectSession(db: Db, id: string, integrationId: string, flowId: string): Promise<void> {
  await db.updateTable('connect_sessions').set({ integration_id: integrationId, flow_id: flowId }).where('id', '=', id).execute();
}

/** Whether the session can still be used: not expired, and not already used for a successful connect. */
export function connectSessionState(
  s: Pick<ConnectSessionView, 'expires_at' | 'flow_outcome' | 'tenant_status'>,
  now = new Date(),
): 'usable' | 'expired' | 'used' {
  if (s.flow_outcome === 'completed') return 'used';
  if (s.expires_at <= now || s.tenant_status !== 'active') return 'expired';
  return 'usable';
}
