import { hash } from 'node:crypto';
import { parseSort, sortParam, type ActivityWindow, type Sort, type SortParam, type UserFilters } from './model';

/**
 * Keyset cursors of `/users`: an opaque base64url token holding the last row's sort key and id, the
 * sort it was issued for, the listing's `asOf` instant, and a fingerprint of the integration, filters
 * and `inactiveDays`. A cursor only continues the listing it came from: another sort, other filters or
 * a malformed token is a 400, never a silently different page.
 */

export interface CursorPosition {
  /**
   * The last row's sort key as the database orders it: the name (text); a timestamp as exact UTC text
   * with microseconds, or `infinity` / `-infinity` standing for "no date" (sorted last); a count.
   */
  key: string | number;
  id: number;
}

export interface Cursor {
  sort: Sort;
  position: CursorPosition;
  asOf: Date;
  fingerprint: string;
}

interface Payload {
  v: 1;
  s: SortParam;
  k: string | number;
  i: number;
  t: number;
  f: string;
}

/** Same integration, same filters, same inactiveDays: same fingerprint (key order does not matter). */
export function queryFingerprint(integrationId: string, filters: UserFilters, inactiveDays: number): string {
  const canonical = Object.entries({ ...filters, integrationId, inactiveDays })
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- zod leaves an absent optional filter as a key with undefined
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => [k, v instanceof Date ? v.toISOString() : Array.isArray(v) ? [...v].sort() : v] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return hash('sha256', JSON.stringify(canonical), 'base64url').slice(0, 16);
}

export function encodeCursor(cursor: Cursor): string {
  const payload: Payload = {
    v: 1,
    s: sortParam(cursor.sort),
    k: cursor.position.key,
    i: cursor.position.id,
    t: cursor.asOf.getTime(),
    f: cursor.fingerprint,
  };
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

export type DecodeResult = { ok: true; cursor: Cursor } | { ok: false; reason: string };

const MALFORMED = 'is not a cursor issued by this API (pass nextCursor back unchanged)';
const TIMESTAMP_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * A timestamp PostgreSQL accepts: the exact format, a real calendar date (Date.parse rolls 2024-02-30 over
 * to March, PostgreSQL refuses it) and a year from 1 (PostgreSQL has no year 0). A forged cursor with such a
 * key used to reach the query and answer 500 (found by test/chaos/bad-input).
 */
function validTimestampKey(key: string): boolean {
  if (!TIMESTAMP_KEY.test(key) || key.startsWith('0000')) return false;
  const ms = Date.parse(key);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 23) === key.slice(0, 23);
}

function validKey(sort: Sort, key: unknown, noDateFirst: boolean): boolean {
  switch (sort.field) {
    case 'name':
      // PostgreSQL text cannot hold NUL (a forged cursor with one was a 500).
      return typeof key === 'string' && !key.includes('\u0000');
    case 'ticketInteractions':
      return typeof key === 'number' && Number.isSafeInteger(key) && key >= 0;
    case 'createdAt':
      return typeof key === 'string' && validTimestampKey(key);
    case 'lastLoginAt':
    case 'lastActivityAt':
      // "No date" sorts last in both directions in /users, so it is +infinity ascending and -infinity
      // descending; the reclaimable seats list it first (never active), as -infinity ascending.
      return typeof key === 'string' && (key === (sort.desc !== noDateFirst ? '-infinity' : 'infinity') || validTimestampKey(key));
  }
}

/** The as-of instants a cursor may carry: 1970 to the end of year 9999 (every real one, all inside PostgreSQL's range). */
const MAX_AS_OF_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * Decodes a cursor and checks it belongs to this listing (sort and fingerprint). `noDateFirst`: the listing
 * puts rows without a date first rather than last (`/reclaimable`).
 */
export function decodeCursor(token: string, expected: { sort: Sort; fingerprint: string; noDateFirst?: boolean }): DecodeResult {
  let payload: Partial<Payload>;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(token)) return { ok: false, reason: MALFORMED };
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { ok: false, reason: MALFORMED };
    payload = parsed;
  } catch {
    return { ok: false, reason: MALFORMED };
  }
  const { v, s, k, i, t, f } = payload;
  if (
    v !== 1 ||
    typeof s !== 'string' ||
    typeof f !== 'string' ||
    typeof i !== 'number' ||
    !Number.isSafeInteger(i) ||
    typeof t !== 'number' ||
    !Number.isFinite(t)
  ) {
    return { ok: false, reason: MALFORMED };
  }
  if (!/^-?(name|createdAt|lastLoginAt|lastActivityAt|ticketInteractions)$/.test(s)) return { ok: false, reason: MALFORMED };
  const sort = parseSort(s);
  if (!validKey(sort, k, expected.noDateFirst ?? false)) return { ok: false, reason: MALFORMED };
  // Only instants PostgreSQL can compute with: a forged t of -8.64e15 (year -271821) was a 500.
  if (t < 0 || t > MAX_AS_OF_MS) return { ok: false, reason: MALFORMED };
  const asOf = new Date(t);
  if (Number.isNaN(asOf.getTime())) return { ok: false, reason: MALFORMED };
  if (s !== sortParam(expected.sort)) {
    return { ok: false, reason: `was issued for sort=${s}, not sort=${sortParam(expected.sort)}: repeat the listing's sort or start again without a cursor` };
  }
  if (f !== expected.fingerprint) {
    return { ok: false, reason: "was issued for other filters or another inactiveDays: repeat the listing's parameters or start again without a cursor" };
  }
  return { ok: true, cursor: { sort, position: { key: k as string | number, id: i }, asOf, fingerprint: f } };
}

/** The window a page is computed in: the cursor's, or a new one starting now. */
export function windowFor(inactiveDays: number, cursor: Cursor | undefined, now = new Date()): ActivityWindow {
  return { inactiveDays, asOf: cursor?.asOf ?? now };
}
