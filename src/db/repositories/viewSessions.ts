import type { Db } from '../database';
import type { ViewSession } from '../tables';

/** A session with what the page needs besides: its tenant's names, status and registered origins. */
export interface ViewSessionView extends ViewSession {
  tenant_name: string;
  tenant_display_name: string | null;
  tenant_status: string;
  tenant_allowed_origins: string[];
}

export async function insertViewSession(
  db: Db,
  s: { tenantId: string; integrationId: string; tokenHash: string; allowedOrigin: string | null; expiresAt: Date },
): Promise<ViewSession> {
  return db
    .insertInto('view_sessions')
    .values({ tenant_id: s.tenantId, integration_id: s.integrationId, token_hash: s.tokenHash, allowed_origin: s.allowedOrigin, expires_at: s.expiresAt })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findViewSessionByHash(db: Db, tokenHash: string): Promise<ViewSessionView | undefined> {
  return db
    .selectFrom('view_sessions as s')
    .innerJoin('tenants as t', 't.id', 's.tenant_id')
    .selectAll('s')
    .select(['t.name as tenant_name', 't.display_name as tenant_display_name', 't.status as tenant_status', 't.allowed_origins as tenant_allowed_origins'])
    .where('s.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

/**
 * The origins that may frame the page: the session's own (if still registered), else every origin the
 * tenant has registered now — an origin the tenant removed stops framing its existing links at once.
 */
export function frameAncestorsOf(s: Pick<ViewSessionView, 'allowed_origin' | 'tenant_allowed_origins'>): string[] {
  if (s.allowed_origin !== null) return s.tenant_allowed_origins.includes(s.allowed_origin) ? [s.allowed_origin] : [];
  return s.tenant_allowed_origins;
}
