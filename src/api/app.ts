import express from 'express';
import { createMetrics, type Metrics } from '../observability/metrics';
import { httpMetricsMiddleware } from '../observability/httpMetrics';
import { requestLogMiddleware } from '../observability/requestLog';
import { requireTenant } from './auth';
import { createApiCache, type ApiCache } from './cache/apiCache';
import type { ApiDeps } from './deps';
import { LocalCsvSlots } from './limits/csvSlots';
import { spendBudget } from './limits/middleware';
import { TenantGate } from './limits/tenantGate';
import { overloadProblems } from './limits/overload';
import { Tarpit } from './limits/tarpit';
import { TenantLimits } from './limits/tenantLimits';
import { openApiRouter } from './openapi';
import { notFoundHandler, problemHandler } from './problems';
import { connectAssetsRouter } from './connectAssets';
import { connectPageRouter } from './routes/connectPage';
import { connectSessionsRouter } from './routes/connectSessions';
import { healthRouter } from './routes/health';
import { integrationsRouter } from './routes/integrations';
import { oauthCallbackRouter } from './routes/oauthCallback';
import { offboardRouter } from './routes/offboard';
import { reclamationsRouter } from './routes/reclamations';
import { reportsRouter } from './routes/reports';
import { tenantKeysRouter } from './routes/tenantKeys';
import { tenantsRouter } from './routes/tenants';
import { webhookEndpointsRouter } from './routes/webhookEndpoints';
import { viewPageRouter } from './routes/viewPage';
import { viewSessionsRouter } from './routes/viewSessions';

/**
 * The Express application: request metrics and logs, then everything under `/v1/integrations` behind
 * tenant authentication (reports first), the liveness probe, the JSON body parser and the other routes (OpenAPI,
 * the OAuth callback, a tenant's own `/v1/tenant…` behind tenant authentication, the admin's `/v1/tenants…`),
 * then problem handling. `metrics` defaults to a registry of its own; it and readiness are served by the
 * internal server (src/api/internalServer.ts), never on this app's port.
 * `cache` defaults to the configured caches (listening on their own PostgreSQL connection, which never
 * keeps the process alive; `app.locals.cache` holds it either way).
 * `limits` defaults to the configured per-tenant budgets, reconciled with PostgreSQL by a timer that never
 * keeps the process alive (`app.locals.limits`; README, "Fair sharing between tenants").
 * `closeApp(app)` closes the caches the app made itself (one passed in is its owner's to close).
 */
export function createApp(deps: ApiDeps & { metrics?: Metrics; cache?: ApiCache; limits?: TenantLimits }): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  const metrics = deps.metrics ?? createMetrics({ defaultLabels: { process: 'api' } });
  const cache = deps.cache ?? createApiCache({ config: deps.config, db: deps.db, logger: deps.logger, metrics });
  app.locals.cache = cache;
  const limits = deps.limits ?? new TenantLimits({ limits: deps.config.apiLimits, db: deps.db, logger: deps.logger });
  limits.start();
  app.locals.limits = limits;
  // Ends the change feed's LISTEN connection of caches made here.
  app.locals.close = async () => {
    if (!deps.cache) await cache.close();
  };
  const csvSlots = new LocalCsvSlots(deps.config.apiLimits.csvConcurrency);
  // Report computations of one tenant at once in this process; ten more may wait their turn.
  const reportGate = new TenantGate(deps.config.apiLimits.reportConcurrency, 10);
  app.use(httpMetricsMiddleware(metrics));
  app.use(requestLogMiddleware(deps.logger));

  // The reports (GET, no body) come first, even before the probe: they are most of the traffic, and
  // every router a request passes on its way costs it time under load (docs/benchmarks.md, scenario 6).
  // Per tenant, not per key: the `requests` budget is spent after authentication (a map lookup, no query).
  app.use('/v1/integrations', requireTenant(deps.db, cache), spendBudget(limits, 'requests'));
  app.use(reportsRouter({ ...deps, cache, limits, csvSlots, reportGate }));

  app.use(healthRouter());
  app.use(express.json({ limit: '64kb', strict: true, type: ['application/json', 'application/*+json'] }));
  app.use(openApiRouter(deps.config.publicUrl, { maxInactiveDays: deps.config.activityRetentionDays }));
  app.use(oauthCallbackRouter(deps));
  // The hosted Connect page (its token is its authorization) and its served script.
  app.use(connectAssetsRouter());
  app.use(connectPageRouter({ ...deps, limits }));
  // The utilization view (its token is its authorization): the reports' own computations and cache.
  app.use(viewPageRouter({ ...deps, cache, limits, csvSlots, reportGate }));
  // A tenant's own routes (`/v1/tenant`, `/v1/tenant/keys…`); the admin's are `/v1/tenants…` (admin key).
  app.use('/v1/tenant', requireTenant(deps.db, cache), spendBudget(limits, 'requests'));
  app.use(tenantsRouter(deps));
  app.use(tenantKeysRouter(deps));
  app.use(offboardRouter(deps));
  app.use(integrationsRouter({ ...deps, cache, limits }));
  app.use(viewSessionsRouter(deps));
  app.use('/v1/connect-sessions', requireTenant(deps.db, cache), spendBudget(limits, 'requests'));
  app.use(connectSessionsRouter(deps));
  app.use(reclamationsRouter(deps));
  app.use('/v1/webhook-endpoints', requireTenant(deps.db, cache), spendBudget(limits, 'requests'));
  app.use(webhookEndpointsRouter(deps));

  app.use(notFoundHandler);
  app.use(overloadProblems(new Tarpit(deps.config.apiLimits.tarpitMs)));
  app.use(problemHandler((err, reference) => deps.logger.error({ err, reference }, `unhandled error in request (${reference})`)));
  return app;
}

/**
 * Closes what `createApp` made for `app` that holds a connection of its own: its caches (their change
 * feed's LISTEN connection), unless they were passed in. Call it once the app's server stopped taking requests.
 */
export async function closeApp(app: express.Express): Promise<void> {
  await (app.locals.close as () => Promise<void>)();
}
