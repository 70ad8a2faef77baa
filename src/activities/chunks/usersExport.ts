import { getCheckpoint, setCheckpoint } from '../../db/repositories/checkpoints';
import { setStreamProgress } from '../../db/repositories/integrationStreams';
import { addSyncRunCounts } from '../../db/repositories/syncRuns';
import { upsertZendeskUsers } from '../../db/repositories/zendeskUsers';
import { ProgressGuard, toUserRow, uniqueUserRows } from '../syncMapping';
import { fetchAhead, refusedPosition, stopping, type ChunkContext, type ChunkResult } from './tools';

/**
 * The end-user stream: every user from the incremental cursor export, resumed from the saved cursor. A saved cursor Zendesk refuses
 * restarts the export from the beginning (once per chunk, noted on the run); a cursor that stops moving
 * ends the chunk (ProgressGuard).
 */
export async function usersExportChunk(ctx: ChunkContext): Promise<ChunkResult> {
  const { input, client, deadline, pulse, deps } = ctx;
  const { db } = deps;
  const result: ChunkResult = { done: false, pages: 0, records: 0 };
  const guard = new ProgressGuard('users export');
  let cursor = await getCheckpoint(db, input.integrationId, 'users');
  let requested = cursor;
  let reset = false;
  const fetchPage = (c: string | undefined) => fetchAhead(() => client.incrementalUsersPage(c ? { cursor: c } : { startTime: 0 }));
  let pending = fetchPage(cursor);
  for (;;) {
    let page;
    try {
      page = await pending;
    } catch (err) {
      if (reset || requested === undefined || !refusedPosition(err)) throw err;
      reset = true;
      await ctx.resetStream('users', `Zendesk refused the saved users cursor (HTTP ${err.status}${err.code ? `, ${err.code}` : ''}); the users export started again from the beginning.`);
      cursor = requested = undefined;
      pending = fetchPage(undefined);
      continue;
    }
    const next = page.after_cursor ?? cursor;
    guard.check(page.end_of_stream || next !== requested);
    ctx.reportRecords('users', page);
    const rows = uniqueUserRows(page.users.map((u) => toUserRow(input.integrationId, u)));
    cursor = next;
    const more = !page.end_of_stream && Date.now() < deadline && !stopping();
    if (more) {
      requested = cursor;
      pending = fetchPage(cursor); // the next page travels while this one is written
    }
    await db.transaction().execute(async (trx) => {
      await upsertZendeskUsers(trx, rows);
      if (page.after_cursor) await setCheckpoint(trx, input.integrationId, 'users', page.after_cursor);
      await addSyncRunCounts(trx, input.syncRunId, { users: rows.length, skipped: page.skipped.length });
    });
    result.pages++;
    result.records += rows.length;
    pulse.beat(result);
    if (page.end_of_stream) {
      await setStreamProgress(db, input.integrationId, 'end_users', {}, true);
      return { ...result, done: true };
    }
    if (!more) return result;
  }
}
