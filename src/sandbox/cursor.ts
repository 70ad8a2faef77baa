// Opaque cursors. They look like Zendesk's (standard base64, so '+', '/' and '=' can appear and
// clients must URL-encode them) and encode a position, never an offset, so they survive inserts.

import type { UpdatedPosition } from './userStore';

export type Direction = 'after' | 'before';

/**
 * Users API cursor: the id of the boundary record, encoded as recorded ones are:
 * base64 of `{"o":"id","v":"<base64 of 'i' + the id as little-endian int64>"}`.
 */
export function encodeIdCursor(id: number): string {
  const bytes = Buffer.alloc(9);
  bytes.write('i', 0, 'latin1');
  bytes.writeBigUInt64LE(BigInt(id), 1);
  return Buffer.from(JSON.stringify({ o: 'id', v: bytes.toString('base64') }), 'utf8').toString('base64');
}

export function decodeIdCursor(cursor: string): number | null {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64').toString('utf8')) as { o?: unknown; v?: unknown };
    if (parsed.o !== 'id' || typeof parsed.v !== 'string') return null;
    const bytes = Buffer.from(parsed.v, 'base64');
    if (bytes.length !== 9 || bytes[0] !== 0x69) return null;
    const id = Number(bytes.readBigUInt64LE(1));
    return Number.isSafeInteger(id) ? id : null;
  } catch {
    return null;
  }
}

/**
 * Incremental users cursor: the (updated_at, id) position plus which side of it to read, in the style of
 * Zendesk's (`"<epoch>.0||<id>|"`). `epoch` > 0 marks cursors issued after a `refuseExportCursors()`.
 */
export function encodeExportCursor(pos: UpdatedPosition, direction: Direction, epoch = 0): string {
  const secs = (pos.ms / 1000).toFixed(3);
  return Buffer.from(`${secs}||${pos.id}|${direction === 'after' ? 'a' : 'b'}${epoch > 0 ? epoch : ''}`, 'utf8').toString('base64');
}

export function decodeExportCursor(cursor: string): { pos: UpdatedPosition; direction: Direction; epoch: number } | null {
  const text = Buffer.from(cursor, 'base64').toString('utf8');
  const m = /^(-?\d+(?:\.\d{1,3})?)\|\|(-?\d+)\|([ab])(\d*)$/.exec(text);
  if (!m) return null;
  return {
    pos: { ms: Math.round(Number(m[1]) * 1000), id: Number(m[2]) },
    direction: m[3] === 'a' ? 'after' : 'before',
    epoch: m[4] === '' ? 0 : Number(m[4]),
  };
}
