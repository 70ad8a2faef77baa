import type { z } from 'zod';
import { refreshExpiries } from '../db/repositories/credentials';
import { latestSyncRuns } from '../db/repositories/integrations';
import { latestFlows } from '../db/repositories/oauthFlows';
import type { Integration as IntegrationRow, SyncRun } from '../db/tables';
import { nextSyncAt } from '../temporal/syncSchedule';
import type { ApiDeps } from './deps';
import { reconnectView } from './reconnectView';
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

/** Integration rows as the API shows them, with their latest sync and the schedule's next run. */
export async function integrationViews(deps: ApiDeps, rows: IntegrationRow[]): Promise<Array<z.infer<typeof Integration>>> {
  const ids = rows.map((r) => r.id);
  const [runs, refreshExpiresAt, flows] = await Promise.all([latestSyncRuns(deps.db, ids), refreshExpiries(deps.db, ids), latestFlows(deps.db, ids)]);
  return Promise.all(
    rows.map(async (row) => {
      let next: Date | null = null;
      if (row.status === 'connected') {
        // A short deadline: with Temporal unreachable the call otherwise hangs for about 20 s, and so did
        // GET /v1/integrations[/:id] (found by test/chaos/temporal-outage). The view then shows null.
        next = await deps.temporal.withDeadline(Date.now() + NEXT_SYNC_DEADLINE_MS, () => nextSyncAt(deps.temporal, row.id)).catch((err) => {
          deps.logger.warn({ integrationId: row.id, err: (err as Error).message }, 'could not read the sync schedule');
          return null;
        });
      }
      return {
        id: row.id,
        provider: 'zendesk' as const,
        workspace: row.workspace,
        status: row.status,
        createdAt: row.created_at.toISOString(),
        connectedAt: iso(row.connected_at),
        lastSync: lastSyncView(runs.get(row.id)),
        nextSyncAt: iso(next),
        error: row.error,
        entitlements: row.entitlements_status ?? ('unknown' as const),
        refreshExpiresAt: iso(refreshExpiresAt.get(row.id) ?? null),
        reconnect: reconnectView(flows.get(row.id)),
      };
    }),
  );
}
