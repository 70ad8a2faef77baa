import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RequestInfo, ZendeskObserver } from '../zendesk/http';

/**
 * Prometheus metrics for both processes. Each process builds its own registry with `createMetrics()`
 * (no global registry, so tests can build as many as they like) and serves it as Prometheus text:
 * both on a small server of their own (`startMetricsServer`): the API's on INTERNAL_PORT (9463), never its
 * public port, the worker's on METRICS_PORT (9464).
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
  };
}

// ---------------------------------------------------------------------------------------------------
// HTTP (API)

/** Label for requests no route matched: keeps probing for random paths from creating series. */
export const UNMATCHED_ROUTE = '(unmatched)';

/** The route template of an answered request, e.g. `/v1/integrations/:id/users`. */
export function routeTemplate(req: Request): string {
  const routePath: unknown = (req as Request & { route?: { path?: unknown } }).route?.path;
  const base = req.baseUrl;
  if (typeof routePath === 'string') return `${base}${routePath === '/' && base ? '' : routePath}` || '/';
  if (routePath !== undefined) return `${base}${String(routePath)}`;
  // Answered by middleware mounted on a path (e.g. authentication on /v1/integrations) before any route.
  if (base) return `${base}/*`;
  return UNMATCHED_ROUTE;
}

/** Express middleware counting every request and timing it, labelled with the route template. */
export function httpMetricsMiddleware(metrics: Pick<Metrics, 'httpRequests' | 'httpRequestDuration'>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const record = () => {
      const labels = { method: req.method, route: routeTemplate(req), status: res.writableFinished ? String(res.statusCode) : 'aborted' };
      metrics.httpRequests.inc(labels);
      metrics.httpRequestDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    };
    // 'close' follows every response, finished ('finish' came first) or cut short.
    res.once('close', record);
    next();
  };
}

/** `GET /metrics` for Express: the registry in Prometheus text format. */
export function metricsHandler(registry: Registry): RequestHandler {
  return (_req: Request, res: Response, next: NextFunction) => {
    registry.metrics().then((text) => {
      res.set('Content-Type', registry.contentType).set('Cache-Control', 'no-store').send(text);
    }, next);
  };
}

// ---------------------------------------------------------------------------------------------------
// Syncs

export interface SyncResultForMetrics {
  outcome: 'succeeded' | 'failed';
  durationMs: number;
  usersSynced?: number;
  ticketEventsSynced?: number;
}

export function recordSyncStarted(metrics: Pick<Metrics, 'syncsStarted'>): void {
  metrics.syncsStarted.inc();
}

/**
 * Call once per finished run (the activity that records the run's end). The sync's rows are counted as
 * each page is written (`recordSyncedRows`); `usersSynced`/`ticketEventsSynced` here are for a caller that
 * did not count them so.
 */
export function recordSyncFinished(
  metrics: Pick<Metrics, 'syncsSucceeded' | 'syncsFailed' | 'syncDuration' | 'usersSynced' | 'ticketEventsSynced'>,
  result: SyncResultForMetrics,
): void {
  (result.outcome === 'succeeded' ? metrics.syncsSucceeded : metrics.syncsFailed).inc();
  metrics.syncDuration.observe({ outcome: result.outcome }, Math.max(0, result.durationMs) / 1000);
  if (result.usersSynced) metrics.usersSynced.inc(result.usersSynced);
  if (result.ticketEventsSynced) metrics.ticketEventsSynced.inc(result.ticketEventsSynced);
}

/** Rows written by one page, after its transaction committed (counted as they land, so a long sync shows progress between scrapes). */
export function recordSyncedRows(metrics: Pick<Metrics, 'usersSynced' | 'ticketEventsSynced'>, rows: { users?: number; ticketEvents?: number }): void {
  if (rows.users) metrics.usersSynced.inc(rows.users);
  if (rows.ticketEvents) metrics.ticketEventsSynced.inc(rows.ticketEvents);
}

// ---------------------------------------------------------------------------------------------------
// Zendesk client

export interface ZendeskObserverOptions {
  /**
   * What `POST /oauth/tokens` means for this observer. A ZendeskClient only sends refresh grants there
   * (its TokenProvider), so the default counts them as token refreshes; pass `'authorization_code'` for
   * the observer given to the connect flow's code exchange.
   */
  tokenGrant?: 'refresh_token' | 'authorization_code';
}

function zendeskStatusLabel(info: Pick<RequestInfo, 'status' | 'failure'>): string {
  if (info.status > 0) return String(info.status);
  return info.failure ?? 'network';
}

/** A `ZendeskObserver` for `ZendeskClientDeps.observer` that feeds the Zendesk metrics. Never throws. */
export function zendeskObserver(
  metrics: Pick<Metrics, 'zendeskRequests' | 'zendeskRequestDuration' | 'zendeskRateLimited' | 'tokenRefreshes'>,
  options: ZendeskObserverOptions = {},
): Required<ZendeskObserver> {
  const tokenGrant = options.tokenGrant ?? 'refresh_token';
  return {
    onRequest(info: RequestInfo) {
      try {
        const bucket = info.bucket;
        metrics.zendeskRequests.inc({ bucket, status: zendeskStatusLabel(info) });
        metrics.zendeskRequestDuration.observe({ bucket }, Math.max(0, info.durationMs) / 1000);
        if (info.status === 429) metrics.zendeskRateLimited.inc({ bucket });
        if (tokenGrant === 'refresh_token' && info.method === 'POST' && info.endpoint === '/oauth/tokens') {
          metrics.tokenRefreshes.inc({ outcome: info.status >= 200 && info.status < 300 ? 'success' : 'failure' });
        }
      } catch {
        // metrics must never break a request
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// The internal HTTP server (the worker's METRICS_PORT, the API's INTERNAL_PORT)

export interface MetricsServerOptions {
  registry: Registry;
  port: number;
  /** Default 0.0.0.0 (scraped from outside the container). */
  host?: string;
  /**
   * `/readyz` answers 200 while this returns true (or `{ ready: true }`), else 503. Default: always ready.
   * `checks` (what was checked, and how it went) is passed through to the body.
   */
  ready?: () => boolean | ReadyState | Promise<boolean | ReadyState>;
}

export interface ReadyState {
  ready: boolean;
  checks?: Record<string, string>;
}

export interface MetricsServer {
  server: Server;
  /** The bound port (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, contentType: string, body: string, head: boolean): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}

/** A tiny node:http server: `GET /metrics` (Prometheus text), `/healthz` (liveness), `/readyz` (readiness). */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const json = 'application/json; charset=utf-8';
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, json, JSON.stringify({ status: 405, title: 'Method Not Allowed' }), head);
    }
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (pathname === '/metrics') return send(res, 200, options.registry.contentType, await options.registry.metrics(), head);
    if (pathname === '/healthz') return send(res, 200, json, JSON.stringify({ status: 'ok' }), head);
    if (pathname === '/readyz') {
      let state: ReadyState;
      try {
        const answer = options.ready ? await options.ready() : true;
        state = typeof answer === 'boolean' ? { ready: answer } : answer;
      } catch {
        state = { ready: false };
      }
      const body = { status: state.ready ? 'ready' : 'not ready', ...(state.checks ? { checks: state.checks } : {}) };
      return send(res, state.ready ? 200 : 503, json, JSON.stringify(body), head);
    }
    return send(res, 404, json, JSON.stringify({ status: 404, title: 'Not Found' }), head);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'metrics unavailable\n', false);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
