import type { Request } from 'express';
import { LRUCache } from 'lru-cache';

/**
 * Parsed report queries by tenant, integration and query string as sent. Parsing (zod, the cursor, the
 * canonical cache key) is pure, and clients repeat the same few queries: under load it was about a tenth
 * of the API's CPU time (docs/benchmarks.md, scenario 6). Only valid queries are kept; a bad one throws
 * its 400 every time. Bounded by count: the least recently used query goes first.
 */
export class ParsedQueries<T> {
  // A plain bounded LRU: no ages, tags or partitions, so lru-cache as it comes.
  private readonly parsed = new LRUCache<string, { value: T }>({ max: 1_000 });

  get(tenantId: string, integrationId: string, req: Request, parse: (tenantId: string, integrationId: string, query: unknown) => T): T {
    const at = req.url.indexOf('?');
    const memoKey = `${tenantId}\u0000${integrationId}\u0000${at < 0 ? '' : req.url.slice(at + 1)}`;
    const known = this.parsed.get(memoKey);
    if (known !== undefined) return known.value;
    const value = parse(tenantId, integrationId, req.query);
    this.parsed.set(memoKey, { value });
    return value;
  }
}
