import { Context } from '@temporalio/activity';
import type { Integration } from '../../db/tables';
import type { Stream } from '../../db/repositories/checkpoints';
import type { ZendeskClient } from '../../zendesk/client';
import { ZendeskRequestError } from '../../zendesk/errors';
import type { RecordAnomaly, SkippedRecord } from '../../zendesk/records';
import type { ActivityDeps } from '../deps';
import type { HeartbeatPulse } from '../heartbeat';

/** What every sync chunk shares: its input and result, and the helpers of its loop. */

export interface ChunkInput {
  integrationId: string;
  syncRunId: string;
  /** Stop after this much work so the workflow can report progress; the checkpoint carries on. */
  maxMs: number;
}

export interface ChunkResult {
  done: boolean;
  pages: number;
  records: number;
}

/**
 * Runs `fn` over `items` with at most `concurrency` at once, taking no new item once `stop()` says so; the
 * first failure stops the others from taking more and is thrown. (Ten lines, so no ESM-only dependency.)
 */
export async function forEachConcurrently<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>, stop: () => boolean): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && !stop() && next < items.length) {
      const item = items[next++]!;
      await fn(item).catch((err: unknown) => {
        failed = true;
        throw err;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}

/**
 * Starts a page request now, to be awaited later. Each stream asks for its next page while the current one
 * is being written, so Zendesk's latency and PostgreSQL's write time overlap instead of adding up (bench
 * scenario 1: the sync went from ~0.5 to ~0.8 of the raw floor). Pages are still written strictly in order,
 * each with its checkpoint; a page fetched ahead is used only after the write before it committed, and is
 * dropped if that write fails (the retry starts again from the checkpoint). Rate limits are unaffected: the
 * request goes through the same limiter, and no page is requested that the loop would not have requested.
 */
export function fetchAhead<T>(request: () => Promise<T>): Promise<T> {
  const pending = request();
  pending.catch(() => undefined); // awaited by the next iteration; never an unhandled rejection meanwhile
  return pending;
}

/**
 * The worker is shutting down (its grace time is over) or the activity was cancelled: end the chunk after
 * the page in hand is committed, so the next chunk resumes from its checkpoint on another worker.
 */
export const stopping = () => Context.current().cancellationSignal.aborted;

/**
 * Zendesk refused a saved position itself (400/422: an expired or invalid cursor, a start_time it no longer
 * accepts). Asking again with it would fail every future sync; the stream starts afresh instead.
 */
export const refusedPosition = (err: unknown): err is ZendeskRequestError => err instanceof ZendeskRequestError && (err.status === 400 || err.status === 422);

/**
 * Activities of a sync. Each stream is processed in chunks; every page's rows and the checkpoint after
 * them are committed in one transaction, so a crash anywhere loses nothing and a replay counts nothing twice.
 */
/** What a chunk's body works with (built by the runner, chunks/runner.ts). */
export interface ChunkContext {
  deps: ActivityDeps;
  input: ChunkInput;
  integration: Integration;
  client: ZendeskClient;
  /** Epoch ms after which the chunk returns with what it did. */
  deadline: number;
  pulse: HeartbeatPulse;
  /** Counts and logs a page's quarantined records and surprises. */
  reportRecords(stream: Stream, page: { skipped: SkippedRecord[]; anomalies: RecordAnomaly[] }): void;
  /** Forgets a stream's refused position and says why on the run. */
  resetStream(stream: Stream, note: string): Promise<void>;
}
