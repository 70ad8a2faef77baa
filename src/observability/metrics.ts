import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics for both processes. Each process builds its own registry with `createMetrics()`
 * (no global registry, so tests can build as many as they like) and serves it as Prometheus text:
 * both on a small server of their own (`startMetricsServer`, metricsServer.ts): the API's on INTERNAL_PORT
 * (9463), never its public port, the worker's on METRICS_PORT (9464). What feeds the metrics lives beside
 * this file: httpMetrics.ts (the API's requests), syncMetrics.ts (sync runs), zendeskMetrics.ts (Zendesk calls),
 * webhookMetrics.ts (webhook deliveries).
 *
 * Labels never carry tenant, integration or workspace ids (unbounded cardinality, and a tenant's
 * workspace name is theirs); per-integration detail lives in sync_runs and in Temporal.
 */

export interface Metrics {
  registry: Registry;
  /** HTTP requests the API answered, by method, route template (`/v1/integrations/:id`) and status. */
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  syncsStarted: Counter<string>;
  syncsSucceeded: Counter<string>;
  syncsFailed: Counter<string>;
  /** Wall time of a sync run, from start to its recorded end, by outcome. */
  syncDuration: Histogram<'outcome'>;
  usersSynced: Counter<string>;
  ticketEventsSynced: Counter<string>;
  /** Every HTTP request sent to Zendesk, by rate-limit bucket and status (`timeout`/`network` when none came back). */
  zendeskRequests: Counter<'bucket' | 'status'>;
  zendeskRequestDuration: Histogram<'bucket'>;
  /** 429 responses received from Zendesk, by bucket. */
  zendeskRateLimited: Counter<'bucket'>;
  /** Refresh-token grants sent to Zendesk, by outcome (`success`, `failure`). */
  tokenRefreshes: Counter<'outcome'>;
  /** Zendesk records quarantined by syncs (unusable: no id, not an object…), by stream. */
  recordsSkipped: Counter<'stream'>;
  /** Zendesk record fields read as unknown although sent (`wrong_type`) or with undocumented values (`unknown_value`). */
  recordAnomalies: Counter<'field' | 'kind'>;
  /**
   * The API's caches (src/api/cache): lookups by cache (`reports`, `tenants`, `integrations`) and outcome
   * (`hit`; `miss`: computed and stored; `coalesced`: joined an identical computation in flight;
   * `bypass`: the cache is disabled, e.g. while its change feed is down).
   */
  apiCacheRequests: Counter<'cache' | 'outcome'>;
  /** Invalidations received by the cache, by kind (`integration`, `tenant`, `all`, `local`). */
  apiCacheInvalidations: Counter<'kind'>;
  /** 1 while the caches are enabled (their change feed is listening), else 0. */
  apiCacheEnabled: Gauge<string>;
  apiCacheEntries: Gauge<'cache'>;
  apiCacheBytes: Gauge<'cache'>;
  /** Rows deleted or scrubbed by housekeeping (src/activities/housekeeping.ts), by rule. */
  housekeepingRows: Counter<'rule'>;
  /** Webhook delivery attempts, by outcome (`delivered`, `retry`: not 2xx or no answer, `gone`: 410). */
  webhookAttempts: Counter<'outcome'>;
  webhookAttemptDuration: Histogram<'outcome'>;
  /** Webhook deliveries that ended, by outcome (`delivered`, `failed`: 410 or every attempt failed). */
  webhookDeliveries: Counter<'outcome'>;
  /** From the event's commit (its delivery recorded) to the receiver's 2xx: what the platform waits. */
  webhookDeliveryLag: Histogram<string>;
}

export interface MetricsOptions {
  /** Node.js process metrics (CPU, memory, event loop lag, GC) as well. Default true. */
  defaultMetrics?: boolean;
  /** Labels put on every series, e.g. `{ process: 'worker' }`. */
  defaultLabels?: Record<string, string>;
}

const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SYNC_DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400];
const ZENDESK_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** From sub-second (a healthy receiver) to a day (the retry schedule's end). */
const WEBHOOK_LAG_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30, 300, 1800, 7200, 36000, 86400];

/** The registry factory: a fresh registry holding every metric of this service. */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered by the API, by method, route template and status.',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    }),
    httpRequestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method, route template and status.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: HTTP_DURATION_BUCKETS,
      registers,
    }),
    syncsStarted: new Counter({ name: 'zendesk_syncs_started_total', help: 'Zendesk sync runs started.', registers }),
    syncsSucceeded: new Counter({ name: 'zendesk_syncs_succeeded_total', help: 'Zendesk sync runs that finished successfully.', registers }),
    syncsFailed: new Counter({ name: 'zendesk_syncs_failed_total', help: 'Zendesk sync runs that failed.', registers }),
    syncDuration: new Histogram({
      name: 'zendesk_sync_duration_seconds',
      help: 'Duration of finished Zendesk sync runs, by outcome (succeeded, failed).',
      labelNames: ['outcome'] as const,
      buckets: SYNC_DURATION_BUCKETS,
      registers,
    }),
    usersSynced: new Counter({ name: 'zendesk_users_synced_total', help: 'Zendesk users written by syncs.', registers }),
    ticketEventsSynced: new Counter({ name: 'zendesk_ticket_events_synced_total', help: 'Zendesk ticket events written by syncs.', registers }),
    zendeskRequests: new Counter({
      name: 'zendesk_api_requests_total',
      help: 'HTTP requests sent to Zendesk, by rate-limit bucket and response status (timeout/network when none arrived).',
      labelNames: ['bucket', 'status'] as const,
      registers,
    }),
    zendeskRequestDuration: new Histogram({
      name: 'zendesk_api_request_duration_seconds',
      help: 'Duration of HTTP requests to Zendesk, by rate-limit bucket.',
      labelNames: ['bucket'] as const,
      buckets: ZENDESK_DURATION_BUCKETS,
      registers,
    }),
    zendeskRateLimited: new Counter({
      name: 'zendesk_rate_limited_total',
      help: '429 Too Many Requests responses received from Zendesk, by rate-limit bucket.',
      labelNames: ['bucket'] as const,
      registers,
    }),
    recordsSkipped: new Counter({
      name: 'zendesk_records_skipped_total',
      help: 'Zendesk records quarantined by syncs (skipped: not an object, no usable id, a required field missing), by stream.',
      labelNames: ['stream'] as const,
      registers,
    }),
    recordAnomalies: new Counter({
      name: 'zendesk_record_anomalies_total',
      help: 'Zendesk record fields kept as unknown although sent with another type (wrong_type), or kept with a value Zendesk does not document (unknown_value), by field.',
      labelNames: ['field', 'kind'] as const,
      registers,
    }),
    tokenRefreshes: new Counter({
      name: 'zendesk_token_refreshes_total',
      help: 'OAuth refresh-token grants sent to Zendesk, by outcome (success, failure).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    apiCacheRequests: new Counter({
      name: 'api_cache_requests_total',
      help: 'Lookups in the API caches, by cache (reports, tenants, integrations) and outcome (hit, miss, coalesced, bypass).',
      labelNames: ['cache', 'outcome'] as const,
      registers,
    }),
    apiCacheInvalidations: new Counter({
      name: 'api_cache_invalidations_total',
      help: 'Invalidations applied to the API caches, by kind (integration, tenant, all, local; progress: reports marked stale by a running sync).',
      labelNames: ['kind'] as const,
      registers,
    }),
    apiCacheEnabled: new Gauge({ name: 'api_cache_enabled', help: '1 while the API caches are enabled (change feed listening), else 0.', registers }),
    apiCacheEntries: new Gauge({ name: 'api_cache_entries', help: 'Entries held by each API cache.', labelNames: ['cache'] as const, registers }),
    apiCacheBytes: new Gauge({
      name: 'api_cache_bytes',
      help: 'Approximate bytes held by each API cache (cached response bodies).',
      labelNames: ['cache'] as const,
      registers,
    }),
    housekeepingRows: new Counter({
      name: 'zendesk_housekeeping_rows_total',
      help: 'Rows deleted or scrubbed by housekeeping, by rule.',
      labelNames: ['rule'] as const,
      registers,
    }),
    webhookAttempts: new Counter({
      name: 'webhook_delivery_attempts_total',
      help: 'Webhook delivery attempts, by outcome (delivered; retry: not 2xx or no answer; gone: 410).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    webhookAttemptDuration: new Histogram({
      name: 'webhook_delivery_attempt_duration_seconds',
      help: 'Time of one webhook delivery attempt (until the answer, or the attempt timeout), by outcome.',
      labelNames: ['outcome'] as const,
      buckets: HTTP_DURATION_BUCKETS,
      registers,
    }),
    webhookDeliveries: new Counter({
      name: 'webhook_deliveries_total',
      help: 'Webhook deliveries that ended, by outcome (delivered; failed: 410 or every attempt failed).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    webhookDeliveryLag: new Histogram({
      name: 'webhook_delivery_lag_seconds',
      help: "Seconds from a webhook event's commit to its delivery's 2xx, retries included.",
      buckets: WEBHOOK_LAG_BUCKETS,
      registers,
    }),
  };
}
