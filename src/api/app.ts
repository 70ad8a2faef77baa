import express from 'express';
import { requireTenant } from './auth';
import type { ApiDeps } from './deps';
import { notFoundHandler, problemHandler } from './problems';
import { healthRouter } from './routes/health';
import { integrationsRouter } from './routes/integrations';
import { oauthCallbackRouter } from './routes/oauthCallback';
import { tenantsRouter } from './routes/tenants';

/** The Express application: public routes first, then tenant-authenticated ones, then problem handling. */
export function createApp(deps: ApiDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(express.json({ limit: '64kb', strict: true, type: ['application/json', 'application/*+json'] }));

  app.use(healthRouter(deps));
  app.use(oauthCallbackRouter(deps));
  app.use(tenantsRouter(deps));
  app.use('/v1/integrations', requireTenant(deps.db));
  app.use(integrationsRouter(deps));

  app.use(notFoundHandler);
  app.use(problemHandler((err) => deps.logger.error({ err }, 'unhandled error in request')));
  return app;
}
