import express from 'express';
import { createMetrics, httpMetricsMiddleware, type Metrics } from '../observability/metrics';
import { requestLogMiddleware } from '../observability/requestLog';
import { requireTenant } from './auth';
import { createApiCache, type ApiCache } from './cache/apiCache';
import type { ApiDeps } from './deps';
import { openApiRouter } from './openapi';
import { notFoundHandler, problemHandler } from './problems';
import { healthRouter } from './routes/health';
import { integrationsRouter } from './routes/integrations';
import { oauthCallbackRouter } from './routes/oauthCallback';
import { offboardRouter } from './routes/offboard';
import { reportsRouter } from './routes/reports';
import { tenantKeysRouter } from './routes/tenantKeys';
import { tenantsRouter } from './routes/tenants';

/**
 * The Express application: request metrics and logs, then everything under `/v1/integrations` behind
 * tenant authentication (reports first), the liveness probe, the JSON body parser and the other routes (OpenAPI,
 * the OAuth callback, a tenant's own `/v1/tenant…` behind tenant authentication, the admin's `/v1/tenants…`),
 * then problem handling. `metrics` defaults to a registry of its own; it and readiness are served by the
 * internal server (src/api/internalServer.ts), never on this app's port.
 * `cache` defaults to the configured caches (listening on their own PostgreSQL connection, which never
 * keeps the process alive); pass one to close it on shutdown (`app.locals.cache` holds it either way).
 */
export function createApp(deps: ApiDeps & { metrics?: Metrics; cache?: ApiCache }): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  const metrics = deps.metrics ?? createMetrics({ defaultLabels: { process: 'api' } });
  const cache = deps.cache ?? createApiCache({ config: deps.config, db: deps.db, logger: deps.logger, metrics });
  app.locals.cache = cache;
  app.use(httpMetricsMiddleware(metrics));
  app.use(requestLogMiddleware(deps.logger));

  // The reports (GET, no body) come first, even before the probe: they are most of the traffic, and
  // every router a request passes on its way costs it time under load (docs/benchmarks.md, scenario 6).
  app.use('/v1/integrations', requireTenant(deps.db, cache));
  app.use(reportsRouter({ ...deps, cache }));

  app.use(healthRouter());
  app.use(express.json({ limit: '64kb', strict: true, type: ['application/json', 'application/*+json'] }));
  app.use(openApiRouter(deps.config.publicUrl, { maxInactiveDays: deps.config.activityRetentionDays }));
  app.use(oauthCallbackRouter(deps));
  // A tenant's own routes (`/v1/tenant`, `/v1/tenant/keys…`); the admin's are `/v1/tenants…` (admin key).
  app.use('/v1/tenant', requireTenant(deps.db, cache));
  app.use(tenantsRouter(deps));
  app.use(tenantKeysRouter(deps));
  app.use(offboardRouter(deps));
  app.use(integrationsRouter({ ...deps, cache }));

  app.use(notFoundHandler);
  app.use(problemHandler((err, reference) => deps.logger.error({ err, reference }, `unhandled error in request (${reference})`)));
  return app;
}
