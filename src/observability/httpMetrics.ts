import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Registry } from 'prom-client';
import type { Metrics } from './metrics';

/** The API's HTTP metrics: requests by route template, and `GET /metrics` for Express. */

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
