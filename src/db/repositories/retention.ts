import { sql } from 'kysely';
import { reportDb } from '../../reports/tables';
import type { Db } from '../database';

/**
 * The housekeeping rules (src/activities/housekeeping.ts), one batch per call. Each call is one statement,
 * so one short transaction: a batch never holds locks for long beside the syncs' page transactions, and a
 * crash loses at most the batch in hand. Every function returns how many rows it changed (and, for walks,
 * where the next batch starts); a batch that changed fewer rows than `batchSize` is the last one.
 * Periods are judged by PostgreSQL's clock (`now()`), like the rows' own timestamps.
 */

/**
 * Integrations a sync is writing right now are left for the next run by the rules that touch synced rows:
 * their row locks would race the sync's page transactions (a deadlock aborts one of them), and deleting the
 * last old events of an integration while a page adds its first new ones would let the activity summary's
 * delete trigger, which takes "no event left" for a purge, drop the new rows' summary.
 */
const noRunningSync = (integrationId: ReturnType<typeof sql.ref>) =>
  sql<boolean>`NOT EXISTS (SELECT 1 FROM sync_runs s WHERE s.integration_id = ${integrationId} AND s.status = 'running')`;

/** `now() - ms`, as SQL. */
const ago = (ms: number) => sql<Date>`now() - ${Math.max(0, Math.round(ms))} * interval '1 millisecond'`;

/**
 * OAuth flows (consent attempts) that ended `retentionMs` ago: expired, or exchanged, whichever is later
 * (a flow is used before it expires; its exchange may finish just after). The newest flow of each live
 * integration is kept (what its last consent attempt was, for the callback's reload and a pending
 * reconnect), but see scrubEndedFlowSecrets. A disconnected integration keeps none.
 */
export async function deleteEndedOAuthFlows(db: Db, retentionMs: number, batchSize: number): Promise<number> {
  const result = await sql`
    DELETE FROM oauth_flows
     WHERE id IN (
       SELECT f.id
         FROM oauth_flows f
         JOIN integrations i ON i.id = f.integration_id
        WHERE GREATEST(f.expires_at, f.exchanged_at) < ${ago(retentionMs)}
          AND (i.status = 'disconnected'
               OR f.id <> (SELECT n.id FROM oauth_flows n WHERE n.integration_id = f.integration_id ORDER BY n.created_at DESC, n.id DESC LIMIT 1))
        LIMIT ${batchSize})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Connect sessions (hosted Connect page links) that expired `retentionMs` ago: nothing reads them after that. */
export async function deleteEndedConnectSessions(db: Db, retentionMs: number, batchSize: number): Promise<number> {
  const result = await sql`
    DELETE FROM connect_sessions
     WHERE id IN (SELECT id FROM connect_sessions WHERE expires_at < ${ago(retentionMs)} LIMIT ${batchSize})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Utilization view links that expired `retentionMs` ago: their page answers "expired" until then, then "not valid". */
export async function deleteEndedViewSessions(db: Db, retentionMs: number, batchSize: number): Promise<number> {
  const result = await sql`
    DELETE FROM view_sessions
     WHERE id IN (SELECT id FROM view_sessions WHERE expires_at < ${ago(retentionMs)} LIMIT ${batchSize})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** The kept newest flows that ended long ago lose their encrypted verifier and code (useless once ended). */
export async function scrubEndedFlowSecrets(db: Db, retentionMs: number, batchSize: number): Promise<number> {
  const result = await sql`
    UPDATE oauth_flows SET pkce_verifier_enc = NULL, code_enc = NULL
     WHERE id IN (
       SELECT id FROM oauth_flows
        WHERE GREATEST(expires_at, exchanged_at) < ${ago(retentionMs)}
          AND (pkce_verifier_enc IS NOT NULL OR code_enc IS NOT NULL)
        LIMIT ${batchSize})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

export interface SyncRunRetention {
  /** Runs started more recently than this are kept. */
  retentionMs: number;
  /** The newest `keepRuns` runs of each integration are kept, however old. */
  keepRuns: number;
  batchSize: number;
}

/**
 * Old sync runs of a slice of integrations (ids after `after`, in id order, `integrations` of them): per
 * integration, a run goes when it is older than the retention **and** not among the newest `keepRuns`
 * (so the rule that keeps more wins), and never while `running`. Per integration, the `keepRuns`-th newest
 * start is found on the index (integration_id, started_at); runs sharing that instant are all kept.
 * Returns the rows deleted and the slice's last integration id (`null` when no integration was left).
 */
export async function deleteOldSyncRuns(
  db: Db,
  rule: SyncRunRetention,
  slice: { after: string | null; integrations: number },
): Promise<{ deleted: number; last: string | null }> {
  const slicedIds = await db
    .selectFrom('integrations')
    .select('id')
    .$if(slice.after !== null, (q) => q.where('id', '>', slice.after!))
    .orderBy('id')
    .limit(slice.integrations)
    .execute();
  if (slicedIds.length === 0) return { deleted: 0, last: null };
  const ids = slicedIds.map((r) => r.id);
  const result = await sql`
    DELETE FROM sync_runs
     WHERE id IN (
       SELECT r.id
         FROM unnest(${ids}::uuid[]) AS i(id)
        CROSS JOIN LATERAL (
          SELECT started_at FROM sync_runs WHERE integration_id = i.id ORDER BY started_at DESC OFFSET ${rule.keepRuns - 1} LIMIT 1
        ) kept
        CROSS JOIN LATERAL (
          SELECT id FROM sync_runs
           WHERE integration_id = i.id AND status <> 'running'
             AND started_at < kept.started_at AND started_at < ${ago(rule.retentionMs)}
           LIMIT ${rule.batchSize}
        ) r
        LIMIT ${rule.batchSize})`.execute(db);
  return { deleted: Number(result.numAffectedRows ?? 0), last: ids.at(-1) ?? null };
}

/** Disconnected integrations whose retention ended and that still hold synced data, in id order after `after`. */
export async function disconnectedIntegrationsToPurge(db: Db, retentionMs: number, after: string | null, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('integrations as i')
    .select('i.id')
    .where('i.status', '=', 'disconnected')
    .where('i.disconnected_at', '<', ago(retentionMs))
    .$if(after !== null, (q) => q.where('i.id', '>', after!))
    .where((eb) =>
      eb.or([
        eb.exists(
          eb
            .selectFrom('zendesk_users as u')
            .select(sql`1`.as('one'))
            .whereRef('u.integration_id', '=', 'i.id'),
        ),
        eb.exists(
          eb
            .selectFrom('ticket_events as e')
            .select(sql`1`.as('one'))
            .whereRef('e.integration_id', '=', 'i.id'),
        ),
        eb.exists(
          eb
            .selectFrom('sync_checkpoints as c')
            .select(sql`1`.as('one'))
            .whereRef('c.integration_id', '=', 'i.id'),
        ),
      ]),
    )
    .orderBy('i.id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * One batch of a disconnected integration's purge: its users' activity summary first (derived data, one
 * statement: after it the event deletes' triggers have nothing to recompute), then ticket events, then users
 * (their names and emails), then checkpoints. Returns the rows deleted; 0 once nothing is left. Only for an
 * integration that no sync writes any more (disconnected).
 */
export async function purgeIntegrationDataBatch(db: Db, integrationId: string, batchSize: number): Promise<number> {
  await reportDb(db).deleteFrom('zendesk_user_activity').where('integration_id', '=', integrationId).execute();
  const events = await sql`
    DELETE FROM ticket_events
     WHERE integration_id = ${integrationId}
       AND event_id IN (SELECT event_id FROM ticket_events WHERE integration_id = ${integrationId} ORDER BY event_id LIMIT ${batchSize})`.execute(db);
  const deletedEvents = Number(events.numAffectedRows ?? 0);
  if (deletedEvents > 0) return deletedEvents;
  const users = await sql`
    DELETE FROM zendesk_users
     WHERE integration_id = ${integrationId}
       AND id IN (SELECT id FROM zendesk_users WHERE integration_id = ${integrationId} ORDER BY id LIMIT ${batchSize})`.execute(db);
  const deletedUsers = Number(users.numAffectedRows ?? 0);
  if (deletedUsers > 0) return deletedUsers;
  const checkpoints = await db.deleteFrom('sync_checkpoints').where('integration_id', '=', integrationId).executeTakeFirst();
  return Number(checkpoints.numDeletedRows);
}

/**
 * Names and emails of users deleted in Zendesk, `retentionMs` after the worker first stored them as deleted
 * (`deleted_at`, migration 20261204T100000_housekeeping), outside integrations a sync is writing. The Zendesk id stays, and every other field: the
 * reports' counts of deleted users do not change. A later sync that brings the deleted user again writes
 * what Zendesk sends, and the next run scrubs it again.
 */
export async function scrubDeletedUsers(db: Db, retentionMs: number, batchSize: number): Promise<number> {
  const result = await sql`
    UPDATE zendesk_users SET name = NULL, email = NULL
     WHERE (integration_id, id) IN (
       SELECT integration_id, id FROM zendesk_users
        WHERE deleted_at < ${ago(retentionMs)} AND deleted IS TRUE
          AND (name IS NOT NULL OR email IS NOT NULL)
          AND ${noRunningSync(sql.ref('zendesk_users.integration_id'))}
        LIMIT ${batchSize})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** A position in the (integration, user) walk of the ticket-event retention. */
export interface UserPosition {
  integrationId: string;
  userId: number;
}

/**
 * Ticket events older than the retention, for a slice of users (every user with events has a row in
 * `zendesk_user_activity`, kept by triggers; walked in its key order after `after`, `users` of them): per
 * user, one range scan of the index (integration_id, user_id, occurred_at), which already exists, rather
 * than a new index on `occurred_at` that every sync page would have to maintain. Integrations a sync is
 * writing are skipped (this run; the next one takes them). At most `batchSize` events
 * per call. Returns the events deleted and the slice's last user (`null` when no user was left); a full
 * batch means the same slice may have more.
 */
export async function deleteOldTicketEvents(
  db: Db,
  rule: { retentionMs: number; batchSize: number },
  slice: { after: UserPosition | null; users: number },
): Promise<{ deleted: number; last: UserPosition | null }> {
  const after = slice.after;
  const users = await reportDb(db)
    .selectFrom('zendesk_user_activity')
    .select(['integration_id as integrationId', 'user_id as userId'])
    .$if(after !== null, (q) => q.where(sql<boolean>`(integration_id, user_id) > (${after!.integrationId}::uuid, ${after!.userId}::bigint)`))
    .orderBy('integration_id')
    .orderBy('user_id')
    .limit(slice.users)
    .execute();
  if (users.length === 0) return { deleted: 0, last: null };
  const result = await sql`
    DELETE FROM ticket_events
     WHERE (integration_id, event_id) IN (
       SELECT e.integration_id, e.event_id
         FROM unnest(${users.map((u) => u.integrationId)}::uuid[], ${users.map((u) => u.userId)}::bigint[]) AS u(integration_id, user_id)
        CROSS JOIN LATERAL (
          SELECT integration_id, event_id FROM ticket_events
           WHERE integration_id = u.integration_id AND user_id = u.user_id AND occurred_at < ${ago(rule.retentionMs)}
           LIMIT ${rule.batchSize}
        ) e
        WHERE ${noRunningSync(sql.ref('u.integration_id'))}
        LIMIT ${rule.batchSize})`.execute(db);
  return { deleted: Number(result.numAffectedRows ?? 0), last: users.at(-1) ?? null };
}
