// GET /api/v2/incremental/users/cursor: the cursor-based incremental user export. The cursor
// encodes an (updated_at, id) position, so it keeps working after end_of_stream and later
// returns exactly the users changed since.

import { authorize } from './auth';
import { jsonWithRaw, syntheticId } from './brokenRecords';
import { decodeExportCursor, encodeExportCursor } from './cursor';
import { invalidCursor, startTimeError } from './exportQuirks';
import { intParam, invalidValue, type Reply, type RequestContext } from './http';
import type { UpdatedPosition } from './userStore';

export const MAX_EXPORT_PAGE = 1000;

/** per_page for the exports: default and cap 1000 (larger values are capped, like Zendesk). */
export function exportPageSize(q: URLSearchParams): number | Reply {
  const v = intParam(q, 'per_page');
  if (v === 'invalid' || v === 0) return invalidValue('per_page must be a positive integer.');
  return Math.min(v ?? MAX_EXPORT_PAGE, MAX_EXPORT_PAGE);
}

/** How clients have recorded Zendesk wording the excluded window ("older than 1 minute"). */
function recentWindow(seconds: number): string {
  return seconds === 60 ? 'older than 1 minute' : `older than ${seconds} seconds`;
}

/**
 * start_time must be an epoch second older than the excluded most recent window; a too recent one is
 * refused with 422 InvalidValue, as clients have recorded it.
 */
export function exportStartTime(ctx: RequestContext): number | Reply {
  const v = intParam(ctx.query, 'start_time');
  if (v === undefined) return invalidValue('start_time is required.');
  if (v === 'invalid') return invalidValue('start_time must be a Unix epoch time in seconds.');
  if (v * 1000 > ctx.now - ctx.ws.exclusionSeconds * 1000) {
    return startTimeError('tooRecent', 422, 'InvalidValue', recentWindow(ctx.ws.exclusionSeconds));
  }
  return v;
}

export function incrementalUsersCursor(ctx: RequestContext): Reply {
  const a = authorize(ctx, { role: 'admin', read: 'users' });
  if (!a.ok) return a.reply;
  const q = ctx.query;
  const perPage = exportPageSize(q);
  if (typeof perPage !== 'number') return perPage;
  const store = ctx.ws.userStore;
  const quirks = ctx.ws.exportQuirks;
  // The most recent window is never returned: those users come with a later poll.
  const horizonMs = ctx.now - ctx.ws.exclusionSeconds * 1000;

  let pos: UpdatedPosition;
  let direction: 'after' | 'before' = 'after';
  let firstPage = false;
  const cursor = q.get('cursor');
  if (cursor !== null && cursor !== '') {
    const decoded = decodeExportCursor(cursor);
    if (!decoded) return invalidCursor();
    if (decoded.epoch < quirks.minCursorEpoch) return invalidCursor(quirks.cursorRefusal.status, quirks.cursorRefusal.dialect);
    pos = decoded.pos;
    direction = decoded.direction;
  } else {
    const start = exportStartTime(ctx);
    if (typeof start !== 'number') return start;
    pos = { ms: start * 1000, id: -1 }; // strictly after (start, -1) = updated_at >= start
    firstPage = true;
  }

  const eligible = (k: number) => store.updatedMsAt(store.byUpdatedAt(k)) <= horizonMs;
  const picked: number[] = [];
  let endOfStream: boolean;
  if (direction === 'after') {
    let k = store.firstAfter(pos);
    for (; k < store.size && picked.length < perPage && eligible(k); k++) picked.push(store.byUpdatedAt(k));
    endOfStream = !(k < store.size && eligible(k));
  } else {
    let k = store.firstAtOrAfter(pos) - 1;
    for (; k >= 0 && picked.length < perPage; k--) if (eligible(k)) picked.push(store.byUpdatedAt(k));
    picked.reverse();
    const next = picked.length > 0 ? store.firstAfter(store.positionOf(picked[picked.length - 1]!)) : store.firstAtOrAfter(pos);
    endOfStream = !(next < store.size && eligible(next));
  }

  const epoch = quirks.cursorEpoch;
  const afterPos = picked.length > 0 ? store.positionOf(picked[picked.length - 1]!) : pos;
  let afterCursor = encodeExportCursor(afterPos, 'after', epoch);
  const beforeCursor = firstPage ? null : encodeExportCursor(picked.length > 0 ? store.positionOf(picked[0]!) : pos, 'before', epoch);
  if (quirks.stallUsersCursor && !firstPage && cursor !== null) {
    // Pathological on purpose: the cursor does not advance, and the stream claims there is more.
    afterCursor = cursor;
    endOfStream = false;
  }
  const url = (c: string | null) => {
    if (c === null) return null;
    const params = new URLSearchParams();
    params.set('cursor', c);
    for (const k of ['per_page', 'include']) {
      const v = q.get(k);
      if (v !== null) params.set(k, v);
    }
    return `${ctx.baseUrl}/api/v2/incremental/users/cursor?${params}`;
  };
  const users = picked.map((i) => ctx.ws.userJsonAt(i) as unknown as Record<string, unknown>);
  const page = ctx.ws.brokenRecords.expand('users', users, { syntheticId, nulField: 'name' });
  return jsonWithRaw(
    200,
    {
      users: page.entries,
      after_url: url(afterCursor),
      before_url: url(beforeCursor),
      after_cursor: afterCursor,
      before_cursor: beforeCursor,
      end_of_stream: endOfStream,
    },
    page.raw,
  );
}
