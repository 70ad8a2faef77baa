// Broken entries injected into export pages, anchored after a real record so they come back on every read
// of that stretch of the export (a retried page still has them) and always sit among good records.
// Ids beyond 2^53 cannot be written by JSON.stringify, so those pages are serialised with placeholders
// replaced by the literal digits.

import type { Reply } from './http';
import type { BrokenRecordKind, ExportStream } from './types';

/** 2^53 + 1: the first integer a double cannot hold; each injected one gets its own odd number above it. */
const UNSAFE_BASE = 2n ** 53n + 1n;
const SYNTHETIC_BASE = 8_000_000_000_000_000;

export class BrokenRecords {
  private readonly anchors: Record<ExportStream, Map<number, BrokenRecordKind[]>> = { users: new Map(), ticketEvents: new Map() };

  add(stream: ExportStream, anchorId: number, kinds: BrokenRecordKind[]): void {
    const list = this.anchors[stream].get(anchorId) ?? [];
    list.push(...kinds);
    this.anchors[stream].set(anchorId, list);
  }

  clear(stream?: ExportStream): void {
    if (stream) this.anchors[stream].clear();
    else for (const m of Object.values(this.anchors)) m.clear();
  }

  /** Injected entries still pending in a stream (each anchor's list counts fully). */
  count(stream: ExportStream): number {
    let n = 0;
    for (const kinds of this.anchors[stream].values()) n += kinds.length;
    return n;
  }

  anchorsOf(stream: ExportStream): number[] {
    return [...this.anchors[stream].keys()];
  }

  /**
   * The page's entries with the broken ones after their anchors. `syntheticId(anchor, k)` gives ids that
   * belong to no real record; `nulField` is the string field that gets a U+0000 for `nulInName`.
   */
  expand(
    stream: ExportStream,
    records: Record<string, unknown>[],
    opts: { syntheticId: (anchorId: number, k: number) => number; nulField: string },
  ): PageEntries {
    const raw = new Map<string, string>();
    const map = this.anchors[stream];
    if (map.size === 0) return { entries: records, raw };
    const entries: unknown[] = [];
    for (const record of records) {
      const anchorId = record.id as number;
      const kinds = map.get(anchorId);
      if (!kinds) {
        entries.push(record);
        continue;
      }
      // nulInName changes the anchor itself: the record stays real (its id is a user's or an event's).
      const anchor = kinds.includes('nulInName') ? withNul(record, opts.nulField) : record;
      entries.push(anchor);
      kinds.forEach((kind, k) => {
        const entry = this.brokenEntry(kind, anchor, opts.syntheticId(anchorId, k), raw);
        if (entry !== NOTHING) entries.push(entry);
      });
    }
    return { entries, raw };
  }

  private brokenEntry(kind: BrokenRecordKind, anchor: Record<string, unknown>, syntheticId: number, raw: Map<string, string>): unknown {
    const copy = (id: unknown) => relabel(anchor, id, syntheticId);
    switch (kind) {
      case 'noId': {
        const { id: _id, ...rest } = copy(syntheticId);
        return rest;
      }
      case 'stringId':
        return copy(String(syntheticId));
      case 'unsafeId': {
        // The same digits on every read of the page, derived from the entry's synthetic id.
        const token = `__zd_raw_${syntheticId}__`;
        raw.set(`"${token}"`, (UNSAFE_BASE + 2n * BigInt(syntheticId - SYNTHETIC_BASE)).toString());
        return copy(token);
      }
      case 'string':
        return `broken entry after ${String(anchor.id)}`;
      case 'null':
        return null;
      case 'array':
        return [anchor.id, 'not an object'];
      case 'duplicateId':
        return anchor;
      case 'nulInName':
        return NOTHING;
    }
  }
}

/**
 * Ids for injected entries that belong to no real record: far above generated ids (about 3.6e11) and
 * still safe integers, so a reader that coerces "123" to 123 cannot hit a real user or event.
 */
export function syntheticId(anchorId: number, k: number): number {
  return SYNTHETIC_BASE + (anchorId % 100_000_000_000) * 16 + k;
}

export interface PageEntries {
  entries: unknown[];
  /** Placeholder (quoted) → literal JSON text, for numbers JSON.stringify cannot write. */
  raw: Map<string, string>;
}

const NOTHING = Symbol('nothing');

function withNul(record: Record<string, unknown>, field: string): Record<string, unknown> {
  const v = record[field];
  const s = typeof v === 'string' ? v : String(v ?? '');
  return { ...record, [field]: `${s.slice(0, 1)}\u0000${s.slice(1)}` };
}

/** A copy of `anchor` that is clearly not the anchor: another id, and for users another url, name and email. */
function relabel(anchor: Record<string, unknown>, id: unknown, syntheticId: number): Record<string, unknown> {
  const out: Record<string, unknown> = { ...anchor, id };
  if ('url' in out && typeof out.url === 'string') out.url = out.url.replace(String(anchor.id), String(syntheticId));
  if ('name' in out) out.name = `Broken record ${syntheticId}`;
  if ('email' in out) out.email = `broken.${syntheticId}@example.invalid`;
  return out;
}

/** A JSON reply whose placeholders are replaced by raw literals (for ids beyond 2^53). */
export function jsonWithRaw(status: number, body: unknown, raw: Map<string, string>): Reply {
  if (raw.size === 0) return { status, json: body };
  let text = JSON.stringify(body);
  for (const [token, literal] of raw) text = text.split(token).join(literal);
  return { status, text, headers: { 'Content-Type': 'application/json; charset=utf-8' } };
}
