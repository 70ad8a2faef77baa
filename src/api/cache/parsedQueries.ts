import type { Request } from 'express';
import { LruCache } from './lru';

/**
 * Parsed report queries by tenant, integration and query string as sent. Parsing (zod, the cursor, the
 * canonical cache key) is pure, and clients repeat the same few queries: under load it was about a tenth
 * of the API's CPU time (docs/benchmarks.md, scenario 6). Only valid queries are kept; a bad one throws
 * its 400 every time. Bounded by count: the least recently used query goes first.
 */
export class ParsedQueries<T> {
  private readonly parsed = new LruCache<T>({ maxEntries: 1_000, maxBytes: Number.MAX_SAFE_INTEGER, ttlMs: Number.POSITIVE_INFINITY });

  get(tenantId: string, integrationId: string, req: Request, parse: (tenantId: string, integrationId: string, query: unknown) => T): T {
    const at = req.url.indexOf('?');
    const memoKey = `${tenantId}\u0000${integrationId}\u0000${at < 0 ? '' : req.url.slice(at + 1)}`;
    const known = this.parsed.get(memoKey);
    if (known !== undefined) return known;
    const value = parse(tenantId, integrationId, req.query);
    this.parsed.set(memoKey, value, { bytes: 1, tags: [] });
    return value;
  }
}
