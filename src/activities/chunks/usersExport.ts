import { getCheckpoint, setCheckpoint } from '../../db/repositories/checkpoints';
import { setStreamProgress, streamProgress, type StreamProgressRecord } from '../../db/repositories/integrationStreams';
import { addSyncRunCounts } from '../../db/repositories/syncRuns';
import { upsertZendeskUsers } from '../../db/repositories/zendeskUsers';
import { recordSyncedRows } from '../../observability/syncMetrics';
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
  // A pass from the beginning learns the account's size first (one request), for the completion estimate.
  let progress: StreamProgressRecord = (cursor !== undefined ? await streamProgress(db, input.integrationId, 'end_users') : undefined) ?? {};
  if (cursor === undefined) progress = { startedAtMs: Date.now(), done: 0, total: await client.usersCount().catch(() => undefined) };
  const fetchPage = (c: string | undefined) => fetchAhead(() => client.incrementalUsersPage(c ? { cursor: c } : { startTime: 0 }));
  let pending = fetchPage(cursor);
  for (;;) {
    let page;
    try {
      page = await pending;
    } catch (err) {
      if (reset || requested === undefined || !refusedPosition(err)) throw err;
      reset = true;
      await ctx.resetStream(
        'users',
        `Zendesk refused the saved users cursor (HTTP ${err.status}${err.code ? `, ${err.code}` : ''}); the users export started again from the beginning.`,
      );
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
    const written = await db.transaction().execute(async (trx) => {
      const n = await upsertZendeskUsers(trx, rows);
      if (page.after_cursor) await setCheckpoint(trx, input.integrationId, 'users', page.after_cursor);
      await addSyncRunCounts(trx, input.syncRunId, { users: n, skipped: page.skipped.length });
      return n;
    });
    recordSyncedRows(deps.metrics, { users: written });
    result.pages++;
    result.records += written;
    pulse.beat(result);
    progress.done = (progress.done ?? 0) + rows.length;
    if (page.end_of_stream) {
      await setStreamProgress(db, input.integrationId, 'end_users', progress, true);
      return { ...result, done: true };
    }
    if (!more) {
      await setStreamProgress(db, input.integrationId, 'end_users', progress);
      return result;
    }
  }
}
