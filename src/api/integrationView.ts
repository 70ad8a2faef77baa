import type { z } from 'zod';
import { latestSyncRuns } from '../db/repositories/integrations';
import type { Integration as IntegrationRow, SyncRun } from '../db/tables';
import { nextSyncTimes } from '../temporal/nextSyncTimes';
import { nextSyncAt } from '../temporal/syncSchedule';
import type { ApiDeps } from './deps';
import type { Integration } from './schemas';

/** How long a view waits for the schedule's next run before showing `nextSyncAt: null`. */
const NEXT_SYNC_DEADLINE_MS = 2_000;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function lastSyncView(run: SyncRun | undefined): z.infer<typeof Integration>['lastSync'] {
  if (!run) return null;
  return {
    status: run.status,
    startedAt: run.started_at.toISOString(),
    finishedAt: iso(run.finished_at),
    usersSynced: run.users_synced,
    ticketEventsSynced: run.ticket_events_synced,
    requests: run.requests,
    rateLimited: run.rate_limited,
    skippedRecords: run.skipped_records,
    notes: run.notes,
    error: run.error,
  };
}

function view(row: IntegrationRow, run: SyncRun | undefined, next: Date | null): z.infer<typeof Integration> {
  return {
    id: row.id,
    provider: 'zendesk' as const,
    workspace: row.workspace,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    connectedAt: iso(row.connected_at),
    lastSync: lastSyncView(run),
    nextSyncAt: iso(next),
    error: row.error,
    entitlements: row.entitlements_status ?? ('unknown' as const),
  };
}

/**
 * Reads the schedule's next run within a short deadline: with Temporal unreachable the call otherwise hangs
 * for about 20 s, and so did GET /v1/integrations[/:id] (found by test/chaos/temporal-outage). The view
 * then shows null.
 */
function withinDeadline<T>(deps: ApiDeps, what: Record<string, unknown>, fallback: T, fn: () => Promise<T>): Promise<T> {
  return deps.temporal.withDeadline(Date.now() + NEXT_SYNC_DEADLINE_MS, fn).catch((err) => {
    deps.logger.warn({ ...what, err: (err as Error).message }, 'could not read the sync schedule');
    return fallback;
  });
}

/** One integration as the API shows it, with its latest sync and the schedule's next run (one describe). */
export async function integrationView(deps: ApiDeps, row: IntegrationRow): Promise<z.infer<typeof Integration>> {
  const [runs, next] = await Promise.all([
    latestSyncRuns(deps.db, [row.id]),
    row.status === 'connected' ? withinDeadline(deps, { integrationId: row.id }, null, () => nextSyncAt(deps.temporal, row.id)) : null,
  ]);
  return view(row, runs.get(row.id), next);
}

/**
 * A page of integrations as the API shows them: one query for their latest syncs and one Temporal call for
 * the next runs of all their schedules (src/temporal/nextSyncTimes.ts), side by side, whatever the page size.
 */
export async function integrationPageViews(deps: ApiDeps, rows: IntegrationRow[]): Promise<Array<z.infer<typeof Integration>>> {
  const connected = rows.filter((r) => r.status === 'connected').map((r) => r.id);
  const [runs, next] = await Promise.all([
    latestSyncRuns(deps.db, rows.map((r) => r.id)),
    withinDeadline(deps, { integrations: connected.length }, new Map<string, Date | null>(), () => nextSyncTimes(deps.temporal, connected)),
  ]);
  return rows.map((row) => view(row, runs.get(row.id), next.get(row.id) ?? null));
}

/**
 * Integration rows as the API shows them: a single row with an exact describe of its schedule
 * (GET /v1/integrations/:id, right after a connect too), several with one call for the whole page.
 */
export async function integrationViews(deps: ApiDeps, rows: IntegrationRow[]): Promise<Array<z.infer<typeof Integration>>> {
  return rows.length === 1 ? [await integrationView(deps, rows[0])] : integrationPageViews(deps, rows);
}
