import type { IntegrationPosition } from '../db/repositories/integrations';

/**
 * Keyset cursors of `GET /v1/integrations`: an opaque base64url token holding the last row's position
 * (`created_at` as exact UTC text with microseconds, and its id) and the status filter it was issued for. A
 * cursor only continues the listing it came from: another filter or a malformed token is a 400, never a
 * silently different page. It holds nothing secret (the position of the caller's own row).
 */

interface Payload {
  v: 1;
  c: string;
  i: string;
  /** The status filter, canonical (sorted), '' for none. */
  s: string;
}

const statusFingerprint = (statuses: readonly string[] | undefined) => (statuses ? [...statuses].sort().join(',') : '');

export function encodeListCursor(position: IntegrationPosition, statuses: readonly string[] | undefined): string {
  const payload: Payload = { v: 1, c: position.createdAt, i: position.id, s: statusFingerprint(statuses) };
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

export type ListCursorResult = { ok: true; position: IntegrationPosition } | { ok: false; reason: string };

const MALFORMED = 'is not a cursor issued by this API (pass nextCursor back unchanged)';
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A timestamp PostgreSQL accepts as is: the exact format, a real calendar date, a year from 1. */
function validTimestamp(text: string): boolean {
  if (!TIMESTAMP.test(text) || text.startsWith('0000')) return false;
  const ms = Date.parse(text);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 23) === text.slice(0, 23);
}

export function decodeListCursor(token: string, statuses: readonly string[] | undefined): ListCursorResult {
  let payload: Partial<Payload>;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(token)) return { ok: false, reason: MALFORMED };
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { ok: false, reason: MALFORMED };
    payload = parsed;
  } catch {
    return { ok: false, reason: MALFORMED };
  }
  const { v, c, i, s } = payload;
  if (v !== 1 || typeof c !== 'string' || !validTimestamp(c) || typeof i !== 'string' || !UUID.test(i) || typeof s !== 'string') {
    return { ok: false, reason: MALFORMED };
  }
  if (s !== statusFingerprint(statuses)) {
    return { ok: false, reason: "was issued for another status filter: repeat the listing's status or start again without a cursor" };
  }
  return { ok: true, position: { createdAt: c, id: i } };
}
