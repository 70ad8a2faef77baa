import type { Metrics } from './metrics';

/** What sync runs add to the metrics: runs started and finished, rows written page by page. */

export interface SyncResultForMetrics {
  outcome: 'succeeded' | 'failed';
  durationMs: number;
  usersSynced?: number;
  ticketEventsSynced?: number;
}

export function recordSyncStarted(metrics: Pick<Metrics, 'syncsStarted'>): void {
  metrics.syncsStarted.inc();
}

/**
 * Call once per finished run (the activity that records the run's end). The sync's rows are counted as
 * each page is written (`recordSyncedRows`); `usersSynced`/`ticketEventsSynced` here are for a caller that
 * did not count them so.
 */
export function recordSyncFinished(
  metrics: Pick<Metrics, 'syncsSucceeded' | 'syncsFailed' | 'syncDuration' | 'usersSynced' | 'ticketEventsSynced'>,
  result: SyncResultForMetrics,
): void {
  (result.outcome === 'succeeded' ? metrics.syncsSucceeded : metrics.syncsFailed).inc();
  metrics.syncDuration.observe({ outcome: result.outcome }, Math.max(0, result.durationMs) / 1000);
  if (result.usersSynced) metrics.usersSynced.inc(result.usersSynced);
  if (result.ticketEventsSynced) metrics.ticketEventsSynced.inc(result.ticketEventsSynced);
}

/** Rows written by one page, after its transaction committed (counted as they land, so a long sync shows progress between scrapes). */
export function recordSyncedRows(metrics: Pick<Metrics, 'usersSynced' | 'ticketEventsSynced'>, rows: { users?: number; ticketEvents?: number }): void {
  if (rows.users) metrics.usersSynced.inc(rows.users);
  if (rows.ticketEvents) metrics.ticketEventsSynced.inc(rows.ticketEvents);
}
