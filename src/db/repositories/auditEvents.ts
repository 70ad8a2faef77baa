import type { Db } from '../database';

/** The append-only audit log of seat changes (migration 20261208T090000: UPDATE is refused by a trigger). */

export interface AuditEvent {
  integrationId: string;
  reclamationId?: string | null;
  kind: string;
  apiKeyId?: string | null;
  actor?: string | null;
  userId?: number | null;
  before?: unknown;
  after?: unknown;
  detail?: unknown;
}

const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));

export async function appendAudit(db: Db, e: AuditEvent): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      integration_id: e.integrationId,
      reclamation_id: e.reclamationId ?? null,
      kind: e.kind,
      api_key_id: e.apiKeyId ?? null,
      actor: e.actor ?? null,
      user_id: e.userId ?? null,
      before: json(e.before),
      after: json(e.after),
      detail: json(e.detail),
    })
    .execute();
}

export interface AuditFilter {
  reclamationId?: string;
  userId?: number;
  kind?: string;
  /** Keyset: events after this id. */
  afterId?: string;
}

export async function auditPage(db: Db, integrationId: string, filter: AuditFilter, limit: number) {
  let q = db.selectFrom('audit_events').selectAll().where('integration_id', '=', integrationId);
  if (filter.reclamationId) q = q.where('reclamation_id', '=', filter.reclamationId);
  if (filter.userId !== undefined) q = q.where('user_id', '=', filter.userId);
  if (filter.kind) q = q.where('kind', '=', filter.kind);
  if (filter.afterId) q = q.where('id', '>', filter.afterId);
  return q
    .orderBy('id')
    .limit(limit + 1)
    .execute();
}
