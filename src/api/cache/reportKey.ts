/**
 * The cache key of a report request: the report, tenant, integration and the *parsed* query in a
 * canonical form, so requests that mean the same thing share one entry: parameter order does not
 * matter, list values are a set (order and repeats do not matter), defaults are applied before (an
 * omitted `limit` and `limit=100` are one key), dates are instants. A cursor token is part of the key
 * as sent (it names a position and an as-of instant).
 */
export function reportCacheKey(
  report: 'users' | 'utilization' | 'reclaimable',
  tenantId: string,
  integrationId: string,
  query: Record<string, unknown>,
): string {
  return `${report}\u0000${tenantId}\u0000${integrationId}\u0000${canonicalJson(query)}`;
}

function canonicalJson(query: Record<string, unknown>): string {
  const entries = Object.entries(query)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => [k, canonicalValue(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}

function canonicalValue(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) {
    const items = [...new Set(value.map((v) => (v instanceof Date ? v.toISOString() : v)))];
    return items.sort((a, b) => {
      const x = JSON.stringify(a);
      const y = JSON.stringify(b);
      return x < y ? -1 : x > y ? 1 : 0;
    });
  }
  if (value !== null && typeof value === 'object') return JSON.parse(canonicalJson(value as Record<string, unknown>));
  return value;
}
