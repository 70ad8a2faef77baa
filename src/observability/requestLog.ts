import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../logger';
import { routeTemplate } from './httpMetrics';

/**
 * One JSON line per HTTP request the API answers: method, route template, path (never the query
 * string: the OAuth callback's carries `code` and `state`; never a Connect page's or utilization view's token), status, duration, and the tenant and
 * integration when known. Headers are never logged (the Authorization header holds an API key).
 * Probes (`/healthz`, `/readyz`, `/metrics`) log at debug so they do not drown the rest.
 */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);
const INTEGRATION_PATH = /^\/v1\/integrations\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:\/|$)/i;

/** The Connect page's and the utilization view's paths carry a session token (a bearer secret): logged as the route, never the token. */
const CONNECT_PAGE_PATH = /^\/connect\/(?!assets\/)[^/]+/;
const VIEW_PAGE_PATH = /^\/view\/[^/]+/;
const loggedPath = (path: string) => path.replace(CONNECT_PAGE_PATH, '/connect/{token}').replace(VIEW_PAGE_PATH, '/view/{token}');

/** Where `setRequestLogIds` keeps them: `res.locals[LOG_IDS]`. */
const LOG_IDS = 'requestLogIds';

interface RequestLogIds {
  tenantId?: string;
  integrationId?: string;
}

/**
 * Names the tenant and integration a request concerns when neither its key nor its path does (the OAuth
 * callback learns them from its signed state): the request's log line carries them.
 */
export function setRequestLogIds(res: Response, ids: RequestLogIds): void {
  res.locals[LOG_IDS] = { ...(res.locals[LOG_IDS] as RequestLogIds | undefined), ...ids };
}

function requestLogIds(res: Response): RequestLogIds {
  return (res.locals[LOG_IDS] as RequestLogIds | undefined) ?? {};
}

export function requestLogMiddleware(logger: Logger): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const path = loggedPath(req.path);
    const log = () => {
      const finished = res.writableFinished;
      const status = res.statusCode;
      const level = PROBES.has(path) ? 'debug' : !finished || status >= 500 ? 'warn' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      const recorded = requestLogIds(res);
      const integrationId = INTEGRATION_PATH.exec(path)?.[1] ?? recorded.integrationId;
      const line = {
        method: req.method,
        route: routeTemplate(req),
        path,
        status: finished ? status : undefined,
        aborted: finished ? undefined : true,
        durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
        tenantId: req.tenant?.id ?? recorded.tenantId,
        integrationId,
      };
      logger[level](line, 'http request');
    };
    // 'close' follows every response, finished ('finish' came first) or cut short.
    res.once('close', log);
    next();
  };
}
