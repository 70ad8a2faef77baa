import { sql, type Kysely } from 'kysely';
import type { Config } from '../../config';
import type { KeyOwner } from '../../db/repositories/apiKeys';
import type { Database, Integration } from '../../db/tables';
import type { Logger } from '../../logger';
import type { Metrics } from '../../observability/metrics';
import { CachedLoader, type LookupOutcome } from './cachedLoader';
import { CHANGE_CHANNEL, ChangeFeed } from '../../db/changeFeed';

/**
 * A cached report response: the serialized JSON body, gzip-compressed once when large enough (the
 * utilization report of a big workspace lists thousands of reclaimable seats), its `Report-As-Of` instant
 * and an ETag. Served as is many times: no serialization or compression per request.
 */
export interface CachedReport {
  body: Buffer;
  gzip: Buffer | undefined;
  asOf: string;
  etag: string;
}

/** Invalidation tags, the payloads of the `report_changes` notifications. */
export const integrationTag = (id: string) => `integration:${id}`;
export const tenantTag = (id: string) => `tenant:${id}`;
const TENANT_PREFIX = 'tenant:';
/** A report's tenant, from its tags (every report carries `tenant:<id>`). */
const tenantOfTags = (tags: readonly string[]) => tags.find((t) => t.startsWith(TENANT_PREFIX));

/** The payload of a running sync's page transactions (migration 20261202T090000_report_change_progress). */
const PROGRESS_PREFIX = 'progress:';

const CACHES = ['reports', 'tenants', 'integrations', 'schedules'] as const;
type CacheName = (typeof CACHES)[number];

export interface ApiCacheOptions {
  ttlMs: number;
  /** Bound of the report cache (response bodies). */
  maxBytes: number;
  /** Bound of each cache by entry count. Default 10 000 reports, 10 000 keys, 10 000 integrations. */
  maxEntries?: number;
  /**
   * Bounds of one tenant's reports (default: a quarter of `maxBytes` and of `maxEntries`): a tenant
   * computing reports in a loop evicts its own, and when the cache is full the heaviest tenant's least
   * recently used report goes first (LruCache partitions), so one tenant cannot evict everyone else's.
   */
  tenantMaxBytes?: number;
  tenantMaxEntries?: number;
  metrics?: Pick<Metrics, 'apiCacheRequests' | 'apiCacheInvalidations' | 'apiCacheEnabled' | 'apiCacheEntries' | 'apiCacheBytes'>;
  now?: () => number;
}

/**
 * The API process's caches, all invalidated through PostgreSQL LISTEN/NOTIFY (migration
 * 20261201T120000_report_change_notify, `ChangeFeed`), all disabled until the feed is up:
 * - `reports`: `/users` and `/utilization` response bodies by tenant, integration and canonical query;
 * - `tenants`: API key hash → its tenant and expiry (`requireTenant`);
 * - `integrations`: (tenant, id) → integration row (the reports' ownership check);
 * - `schedules`: integration id → its sync schedule's next action times (`GET /v1/integrations`,
 *   src/api/integrationView.ts). Dropped with every change of the integration (its row: a connect,
 *   reconnect, lost grant or disconnect, which are what change its schedule; and its sync runs: each sync
 *   the schedule starts), so only an operator's change in the Temporal UI can go unseen, for at most the TTL.
 *   No refresh ahead: a refresh is per key, and this cache is filled a page (one Temporal call) at a time.
 * Every entry is tagged with its integration and/or tenant; a notification drops what carries its tag.
 */
export class ApiCache {
  readonly reports: CachedLoader<CachedReport>;
  readonly tenants: CachedLoader<KeyOwner>;
  readonly integrations: CachedLoader<Integration>;
  readonly schedules: CachedLoader<Date[]>;
  private feed: ChangeFeed | undefined;

  constructor(private readonly options: ApiCacheOptions) {
    const { metrics } = options;
    const maxEntries = options.maxEntries ?? 10_000;
    const make = <V>(name: CacheName, maxBytes: number, refreshAfterMs?: number, perTenant?: { maxBytes: number; maxEntries: number }) =>
      new CachedLoader<V>({
        refreshAfterMs,
        maxEntries,
        maxBytes,
        partitionMaxBytes: perTenant?.maxBytes,
        partitionMaxEntries: perTenant?.maxEntries,
        partitionOf: perTenant ? tenantOfTags : undefined,
        ttlMs: options.ttlMs,
        // One background refresh at a time per cache: they must not take the CPU from the requests.
        refreshConcurrency: 1,
        now: options.now,
        onLookup: metrics ? (outcome: LookupOutcome) => metrics.apiCacheRequests.inc({ cache: name, outcome }) : undefined,
        onStore: metrics ? () => this.updateGauge(name) : undefined,
      });
    this.reports = make('reports', options.maxBytes, undefined, {
      maxBytes: options.tenantMaxBytes ?? Math.floor(options.maxBytes / 4),
      maxEntries: options.tenantMaxEntries ?? Math.max(1, Math.floor(maxEntries / 4)),
    });
    // Keys and integrations are counted as one unit each: bounded by count.
    this.tenants = make('tenants', Number.MAX_SAFE_INTEGER);
    this.integrations = make('integrations', Number.MAX_SAFE_INTEGER);
    this.schedules = make('schedules', Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY);
    metrics?.apiCacheEnabled.set(0);
  }

  /** The caches in use: TTL above 0 and the change feed up. */
  get enabled(): boolean {
    return this.reports.enabled;
  }

  get feedConnected(): boolean {
    return this.feed?.connected ?? false;
  }

  setEnabled(enabled: boolean): void {
    const on = enabled && this.options.ttlMs > 0;
    for (const cache of this.all()) cache.setEnabled(on);
    this.options.metrics?.apiCacheEnabled.set(on ? 1 : 0);
    this.updateGauges();
  }

  /**
   * A notification's payload (`integration:<id>`, `tenant:<id>`, `all`, or `progress:<id>`: a running
   * sync's page, which marks that integration's reports stale instead of dropping them) or a local change.
   */
  invalidate(tag: string, kind?: 'local'): void {
    if (tag.startsWith(PROGRESS_PREFIX)) {
      this.reports.markStale(integrationTag(tag.slice(PROGRESS_PREFIX.length)));
      this.options.metrics?.apiCacheInvalidations.inc({ kind: 'progress' });
      return;
    }
    if (tag === 'all') {
      for (const cache of this.all()) cache.reset();
    } else {
      for (const cache of this.all()) cache.invalidate(tag);
      // Key lookups learn their tenant only when they finish: any tenant change drops them all.
      if (tag.startsWith('tenant:')) this.tenants.reset();
    }
    this.options.metrics?.apiCacheInvalidations.inc({ kind: kind ?? (tag === 'all' ? 'all' : tag.startsWith('tenant:') ? 'tenant' : 'integration') });
    this.updateGauges();
  }

  private updateGauge(name: CacheName): void {
    const m = this.options.metrics;
    if (!m) return;
    m.apiCacheEntries.set({ cache: name }, this[name].size);
    m.apiCacheBytes.set({ cache: name }, this[name].bytes);
  }

  private updateGauges(): void {
    for (const name of CACHES) this.updateGauge(name);
  }

  /** Starts listening; the caches turn on once notifications are known to arrive. */
  listen(opts: {
    connectionString: string;
    db: Kysely<Database>;
    logger: Logger;
    probeTimeoutMs?: number;
    healthCheckMs?: number;
    backoff?: { initialMs: number; maxMs: number };
    applicationName?: string;
  }): void {
    if (this.feed || this.options.ttlMs <= 0) return;
    this.feed = new ChangeFeed({
      connectionString: opts.connectionString,
      logger: opts.logger,
      applicationName: opts.applicationName,
      probeTimeoutMs: opts.probeTimeoutMs,
      healthCheckMs: opts.healthCheckMs,
      backoff: opts.backoff,
      sendProbe: (payload) => sql`SELECT pg_notify(${CHANGE_CHANNEL}, ${payload})`.execute(opts.db),
      otherBackendPid: async () => Number((await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(opts.db)).rows[0]?.pid),
      onChange: (tag) => this.invalidate(tag),
      onUp: () => this.setEnabled(true),
      onDown: () => this.setEnabled(false),
    });
    this.feed.start();
  }

  async close(): Promise<void> {
    await this.feed?.close();
    this.setEnabled(false);
  }

  private all(): Array<CachedLoader<unknown>> {
    return [this.reports, this.tenants, this.integrations, this.schedules] as Array<CachedLoader<unknown>>;
  }
}

/**
 * The caches of an API process as configured: off when `REPORT_CACHE_TTL_SECONDS=0` or without a
 * database URL; else listening on their own connection (`cache.close()` on shutdown).
 */
export function createApiCache(deps: { config: Config; db: Kysely<Database>; logger: Logger; metrics?: ApiCacheOptions['metrics'] }): ApiCache {
  const { ttlMs, maxBytes, tenantMaxBytes } = deps.config.reportCache;
  const cache = new ApiCache({ ttlMs, maxBytes, tenantMaxBytes, metrics: deps.metrics });
  if (deps.config.databaseUrl && deps.config.reportCache.ttlMs > 0) {
    cache.listen({ connectionString: deps.config.databaseUrl, db: deps.db, logger: deps.logger });
  }
  return cache;
}
