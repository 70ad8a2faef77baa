import { getCheckpoint, setCheckpoint } from '../../db/repositories/checkpoints';
import { markSeatScanned, markUsersDeleted, unscannedSeatHolders } from '../../db/repositories/seatHolders';
import { addSyncRunCounts } from '../../db/repositories/syncRuns';
import { recordSyncedRows } from '../../observability/syncMetrics';
import { upsertZendeskUsers } from '../../db/repositories/zendeskUsers';
import { ProgressGuard, toUserRow, uniqueUserRows } from '../syncMapping';
import { stopping, type ChunkContext, type ChunkResult } from './tools';

/** Where a run's seat-holder scan stands (the `seat_holders` checkpoint; another run's means: start over). */
interface SeatScan {
  run: string;
  phase: 'list' | 'lookup';
  cursor: string | null;
}

/**
 * The seat holders first (issue 16): every sync lists the agents and admins (`role[]=agent&role[]=admin`,
 * 100 a page; client.seatHoldersPage checks the filter held), so its cost is O(seat holders) whatever the
 * number of end users. Every listed user is marked with the run. Then the seat holders stored earlier that
 * the listing did not return are looked up, 100 at a time (`show_many`, deleted users included): returned,
 * they are stored as Zendesk has them now (downgraded to end user, deleted); absent, they are gone: deleted.
 * Pages and the scan's position are committed together, so a retried chunk goes on where it stopped.
 */
export async function seatHoldersChunk(ctx: ChunkContext): Promise<ChunkResult> {
  const { input, client, deadline, pulse, deps } = ctx;
  const { db } = deps;
  const result: ChunkResult = { done: false, pages: 0, records: 0 };
  const saved = await getCheckpoint(db, input.integrationId, 'seat_holders');
  const parsed = saved ? (JSON.parse(saved) as SeatScan) : undefined;
  const scan: SeatScan = parsed?.run === input.syncRunId ? parsed : { run: input.syncRunId, phase: 'list', cursor: null };
  const guard = new ProgressGuard('list of agents and admins');
  const more = () => Date.now() < deadline && !stopping();

  while (scan.phase === 'list') {
    const requested = scan.cursor;
    const page = await client.seatHoldersPage(requested);
    ctx.reportRecords('seat_holders', page);
    guard.check(!page.hasMore || (page.afterCursor !== null && page.afterCursor !== requested));
    const rows = uniqueUserRows(page.users.map((u) => toUserRow(input.integrationId, u)));
    // has_more without a cursor to go on with: nothing more can be asked for.
    if (page.hasMore && page.afterCursor !== null) scan.cursor = page.afterCursor;
    else scan.phase = 'lookup';
    const listed = await db.transaction().execute(async (trx) => {
      const written = await upsertZendeskUsers(trx, rows);
      await markSeatScanned(
        trx,
        input.integrationId,
        input.syncRunId,
        rows.map((r) => r.id),
      );
      await setCheckpoint(trx, input.integrationId, 'seat_holders', JSON.stringify(scan));
      await addSyncRunCounts(trx, input.syncRunId, { users: written, skipped: page.skipped.length });
      return written;
    });
    recordSyncedRows(deps.metrics, { users: listed });
    result.pages++;
    result.records += rows.length;
    pulse.beat(result);
    if (!more()) return result;
  }

  for (;;) {
    const ids = await unscannedSeatHolders(db, input.integrationId, input.syncRunId, 100);
    if (ids.length === 0) break;
    const found = await client.showManyUsers(ids);
    ctx.reportRecords('seat_holders', found);
    const rows = uniqueUserRows(found.users.map((u) => toUserRow(input.integrationId, u)));
    const returned = new Set(rows.map((r) => r.id));
    const looked = await db.transaction().execute(async (trx) => {
      const written = await upsertZendeskUsers(trx, rows);
      const gone = ids.filter((id) => !returned.has(id));
      await markSeatScanned(trx, input.integrationId, input.syncRunId, [...returned]);
      await markUsersDeleted(trx, input.integrationId, input.syncRunId, gone);
      await addSyncRunCounts(trx, input.syncRunId, { users: written + gone.length });
      return written + gone.length;
    });
    recordSyncedRows(deps.metrics, { users: looked });
    result.pages++;
    result.records += ids.length;
    pulse.beat(result);
    if (!more()) return result;
  }
  // Complete once their entitlements are read too (chunks/entitlements.ts): the seat report is whole then.
  return { ...result, done: true };
}
