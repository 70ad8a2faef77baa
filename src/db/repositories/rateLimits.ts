import { sql } from 'kysely';
import type { Db } from '../database';

/**
 * Shared Zendesk rate-limit blocks, one row per (workspace, bucket): no request may go to the bucket before
 * `blocked_until`. Both writing and reading use the database clock, so processes on machines whose
 * clocks disagree still agree on when a block ends.
 */

/** Blocks each bucket for at least `delayMs` from now (database clock). A later existing block is kept. */
export async function recordRateLimitBlock(db: Db, workspace: string, buckets: readonly string[], delayMs: number): Promise<void> {
  if (buckets.length === 0 || !(delayMs > 0)) return;
  const ms = Math.ceil(delayMs);
  await db
    .insertInto('zendesk_rate_limits')
    .values(buckets.map((bucket) => ({ workspace, bucket, blocked_until: sql<Date>`clock_timestamp() + ${ms} * interval '1 millisecond'` })))
    .onConflict((oc) =>
      oc.columns(['workspace', 'bucket']).doUpdateSet({
        blocked_until: sql<Date>`GREATEST(zendesk_rate_limits.blocked_until, excluded.blocked_until)`,
      }),
    )
    .execute();
}

/**
 * How many milliseconds each of the given buckets remains blocked (database clock), rounded up; buckets
 * without a current block are absent.
 */
export async function readRateLimitBlocks(db: Db, workspace: string, buckets: readonly string[]): Promise<Map<string, number>> {
  const result = new Map<string, number>();
  if (buckets.length === 0) return result;
  const rows = await db
    .selectFrom('zendesk_rate_limits')
    .select(['bucket', sql<number>`ceil(extract(epoch from (blocked_until - clock_timestamp())) * 1000)::float8`.as('remaining_ms')])
    .where('workspace', '=', workspace)
    .where('bucket', 'in', [...buckets])
    .where('blocked_until', '>', sql<Date>`clock_timestamp()`)
    .execute();
  for (const row of rows) {
    const remaining = Number(row.remaining_ms);
    if (remaining > 0) result.set(row.bucket, remaining);
  }
  return result;
}

/** Removes blocks that ended more than `olderThanMs` ago (housekeeping). */
export async function deleteExpiredRateLimitBlocks(db: Db, olderThanMs = 3_600_000): Promise<number> {
  const result = await db
    .deleteFrom('zendesk_rate_limits')
    .where('blocked_until', '<', sql<Date>`clock_timestamp() - ${Math.ceil(olderThanMs)} * interval '1 millisecond'`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
