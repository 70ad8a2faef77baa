// Opaque cursors. They look like Zendesk's (standard base64, so '+', '/' and '=' can appear and
// clients must URL-encode them) and encode a position, never an offset, so they survive inserts.

import type { UpdatedPosition } from './userStore';

export type Direction = 'after' | 'before';

/** Users API cursor: the id of the boundary record. */
export function encodeIdCursor(id: number): string {
  return Buffer.from(JSON.stringify({ o: 'id', v: id }), 'utf8').toString('base64');
}

export function decodeIdCursor(cursor: string): number | null {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64').toString('utf8')) as { o?: unknown; v?: unknown };
    return parsed.o === 'id' && typeof parsed.v === 'number' && Number.isFinite(parsed.v) ? parsed.v : null;
  } catch {
    return null;
  }
}

/** Incremental users cursor: the (updated_at, id) position plus which side of it to read. */
export function encodeExportCursor(pos: UpdatedPosition, direction: Direction): string {
  const secs = (pos.ms / 1000).toFixed(3);
  return Buffer.from(`${secs}||${pos.id}|${direction === 'after' ? 'a' : 'b'}`, 'utf8').toString('base64');
}

export function decodeExportCursor(cursor: string): { pos: UpdatedPosition; direction: Direction } | null {
  const text = Buffer.from(cursor, 'base64').toString('utf8');
  const m = /^(-?\d+(?:\.\d{1,3})?)\|\|(-?\d+)\|([ab])$/.exec(text);
  if (!m) return null;
  return {
    pos: { ms: Math.round(Number(m[1]) * 1000), id: Number(m[2]) },
    direction: m[3] === 'a' ? 'after' : 'before',
  };
}
