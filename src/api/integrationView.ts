import type { z } from 'zod';
import { grantSummaries } from '../db/repositories/credentials';
import { reclaimCapability } from '../reclaim/capability';
import { readReclaimSettings } from '../reclaim/settings';
import { latestSyncRuns } from '../db/repositories/integrations';
import { integrationStreams, type IntegrationStream } from '../db/repositories/integrationStreams';
import { latestFlows } from '../db/repositories/oauthFlows';
import type { Integration as IntegrationRow, OAuthFlow, SyncRun } from '../db/tables';
import { nextOf, scheduledSyncTimes } from '../temporal/scheduledSyncTimes';
import { nextSyncAt } from '../temporal/syncSchedule';
import { integrationTag, type ApiCache } from './cache/apiCache';
import type { ApiDeps } from './deps';
import { reconnectView } from './reconnectView';
import { streamsView } from '../reports/streamsView';
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

/** What a view shows of an integration besides its row. */
interface Related {
  run: SyncRun | undefined;
  next: Date | null;
  grant: { refreshExpiresAt: Date | null; scope: string } | undefined;
  flow: OAuthFlow | undefined;
  streams: IntegrationStream[] | undefined;
}

function view(row: IntegrationRow, { run, next, grant, flow, streams }: Related): z.infer<typeof Integration> {
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
    refreshExpiresAt: iso(grant?.refreshExpiresAt ?? null),
    capabilities: { reclaim: reclaimCapability(row.status, grant?.scope) },
    settings: { syncEndUsers: row.sync_end_users, maxBudgetShare: row.max_budget_share, reclaim: readReclaimSettings(row.reclaim_settings) },
    streams: streamsView(row, streams),
    reconnect: reconnectView(flow),
  };
}

/**
 * Reads schedules within a short deadline: with Temporal unreachable the call otherwise hangs for about
 * 20 s, and so did GET /v1/integrations[/:id] (found by test/chaos/temporal-outage). The view then shows null.
 */
function withinDeadline<T>(deps: ApiDeps, fn: () => Promise<T>): Promise<T> {
  return deps.temporal.withDeadline(Date.now() + NEXT_SYNC_DEADLINE_MS, fn);
}

/** One integration as the API shows it, with its latest sync and the schedule's next run (one describe). */
async function integrationView(deps: ApiDeps, row: IntegrationRow): Promise<z.infer<typeof Integration>> {
  const [runs, grants, flows, streams, next] = await Promise.all([
    latestSyncRuns(deps.db, [row.id]),
    grantSummaries(deps.db, [row.id]),
    latestFlows(deps.db, [row.id]),
    integrationStreams(deps.db, [row.id]),
    row.status === 'connected'
      ? withinDeadline(deps, () => nextSyncAt(deps.temporal, row.id)).catch((err) => {
          deps.logger.warn({ integrationId: row.id, err: (err as Error).message }, 'could not read the sync schedule');
          return null;
        })
      : null,
  ]);
  return view(row, {
    run: runs.get(row.id),
    next,
    grant: grants.get(row.id),
    flow: flows.get(row.id),
    streams: streams.get(row.id),
  });
}

/**
 * A page of integrations as the API shows them: one query for their latest syncs, one for their grants'
 * expiry and, side by side, the
 * next runs of their schedules: from the API's `schedules` cache (src/api/cache/apiCache.ts), and for the
 * ones it lacks **one** Temporal call for the whole page (src/temporal/scheduledSyncTimes.ts), whatever the
 * page size. The cache keeps each schedule's next few action times, so an entry stays right as the
 * schedule's runs come and go (and every run's start drops it anyway).
 */
export async function integrationPageViews(deps: ApiDeps & { cache?: ApiCache }, rows: IntegrationRow[]): Promise<Array<z.infer<typeof Integration>>> {
  const ids = rows.map((r) => r.id);
  const connected = rows.filter((r) => r.status === 'connected').map((r) => r.id);
  const [runs, grants, flows, streams, times] = await Promise.all([
    latestSyncRuns(deps.db, ids),
    grantSummaries(deps.db, ids),
    latestFlows(deps.db, ids),
    integrationStreams(deps.db, ids),
    pageScheduleTimes(deps, connected),
  ]);
  const now = Date.now();
  return rows.map((row) =>
    view(row, {
      run: runs.get(row.id),
      next: nextOf(times.get(row.id), now),
      grant: grants.get(row.id),
      flow: flows.get(row.id),
      streams: streams.get(row.id),
    }),
  );
}

/**
 * The schedules' next action times of a page's connected integrations. Every cache miss of the page (all of
 * them when the cache is off) is answered by one shared ListSchedules call: the cache invokes each miss's
 * loader at once, so they are collected before the call starts.
 */
async function pageScheduleTimes(deps: ApiDeps & { cache?: ApiCache }, ids: string[]): Promise<Map<string, Date[]>> {
  if (ids.length === 0) return new Map();
  const missing: string[] = [];
  let batch: Promise<Map<string, Date[]>> | undefined;
  const load = (id: string) => async () => {
    missing.push(id);
    // After every loader of the page has registered its id (a microtask later), one call for them all.
    batch ??= Promise.resolve().then(() => withinDeadline(deps, () => scheduledSyncTimes(deps.temporal, missing)));
    // An integration whose schedule is not (yet) visible is not stored: the next page view asks again.
    const times = (await batch).get(id);
    if (times === undefined) throw new ScheduleNotListed();
    return { value: times, bytes: 1 };
  };
  const lookups = await Promise.allSettled(
    ids.map(async (id) => {
      const found = deps.cache ? (await deps.cache.schedules.get(id, [integrationTag(id)], load(id))).value : (await load(id)()).value;
      return [id, found] as const;
    }),
  );
  const result = new Map<string, Date[]>();
  let failure: unknown;
  for (const lookup of lookups) {
    if (lookup.status === 'fulfilled') result.set(lookup.value[0], lookup.value[1]);
    else if (!(lookup.reason instanceof ScheduleNotListed)) failure ??= lookup.reason;
  }
  if (failure) deps.logger.warn({ integrations: ids.length, err: (failure as Error).message }, 'could not read the sync schedules of a page');
  return result;
}

class ScheduleNotListed extends Error {}

/**
 * Integration rows as the API shows them: a single row with an exact describe of its schedule
 * (GET /v1/integrations/:id, right after a connect too), several with one call for the whole page.
 */
export async function integrationViews(deps: ApiDeps & { cache?: ApiCache }, rows: IntegrationRow[]): Promise<Array<z.infer<typeof Integration>>> {
  const [only, ...others] = rows;
  return only && others.length === 0 ? [await integrationView(deps, only)] : integrationPageViews(deps, rows);
}
