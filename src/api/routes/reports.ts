import { savingsFor } from '../../reclaim/savings';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { Router, type Request, type Response } from 'express';
import type { z } from 'zod';
import { decodeCursor, encodeCursor, queryFingerprint, windowFor, type Cursor } from '../../reports/cursor';
import { DEFAULT_SORT, parseSort, sortParam, usageBasis, type Sort, type UserFilters } from '../../reports/model';
import { countUsers, findUserPage } from '../../reports/userQuery';
import { userView } from '../../reports/userView';
import { snapshotBody, utilizationBody } from '../../reports/snapshots';
import { reportCompleteness } from '../../reports/completeness';
import { reclaimablePage } from '../../reports/reclaimable';
import { integrationTag, tenantTag, type ApiCache, type CachedReport } from '../cache/apiCache';
import { ParsedQueries } from '../cache/parsedQueries';
import { reportCacheKey } from '../cache/reportKey';
import { exportUsersCsv } from '../csvExport';
import type { ApiDeps } from '../deps';
import type { LocalCsvSlots } from '../limits/csvSlots';
import { tenantComputation } from '../limits/computation';
import type { TenantGate } from '../limits/tenantGate';
import type { TenantLimits } from '../limits/tenantLimits';
import { integrationOwnership } from '../ownership';
import { reportQuerySchemas, type ReclaimableList, type UsersCsvQuery, type UserList, type Utilization } from '../reportSchemas';
import { invalidRequest, parseOr400 } from '../validate';

/** The header naming the instant a report judged activity at (also inside every cursor). */
const AS_OF_HEADER = 'Report-As-Of';

/**
 * Report responses may be kept by the client (they are the caller's own data, hence `private`) but must
 * be revalidated: the ETag turns an unchanged report into a 304.
 */
const REPORT_CACHE_CONTROL = 'private, no-cache';

const CSV_ONLY_REASON = 'is not supported by users.csv, which always returns every row';

/** The filters of /users and users.csv (users.csv's `raw` is how it is written, not what it lists). */
type ParsedFilters = Omit<z.output<typeof UsersCsvQuery>, 'raw'>;

/** The filters of a parsed query, and the checks that span parameters. */
function filtersOf(parsed: ParsedFilters): UserFilters {
  const { sort: _sort, inactiveDays: _days, includeDeleted, ...rest } = parsed;
  if (rest.createdAfter && rest.createdBefore && rest.createdAfter.getTime() > rest.createdBefore.getTime()) {
    throw invalidRequest('listing', [
      { name: 'createdAfter', reason: 'must not be after createdBefore' },
      { name: 'createdBefore', reason: 'must not be before createdAfter' },
    ]);
  }
  return { ...rest, includeDeleted: includeDeleted ?? false };
}

interface Listing {
  integrationId: string;
  filters: UserFilters;
  sort: Sort;
  inactiveDays: number;
  fingerprint: string;
}

const gzipAsync = promisify(gzipCallback);

/** Bodies below this are sent as they are: compressing them saves less than it costs. */
const GZIP_MIN_BYTES = 1024;

/** A report body ready to send many times: serialized and compressed once, with its as-of instant and ETag. */
async function cachedReport(body: unknown, asOf: Date): Promise<{ value: CachedReport; bytes: number }> {
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  // The best compression: it runs once per computation, and every response sent saves the bytes. Above
  // 256 KB level 6: level 9 took three times the CPU for a few per cent fewer bytes, and the utilization
  // report of a 100,000-user workspace is megabytes (that CPU is every tenant's: docs/benchmarks.md, scenario 9).
  const gzip = json.length >= GZIP_MIN_BYTES ? await gzipAsync(json, { level: json.length > 256 * 1024 ? 6 : 9 }) : undefined;
  const etag = `W/"${createHash('sha1').update(json).digest('base64url')}"`;
  return { value: { body: json, gzip, asOf: asOf.toISOString(), etag }, bytes: json.length + (gzip?.length ?? 0) + 200 };
}

/**
 * Sends a cached report: 304 when the client's ETag matches (`req.fresh`), else the body, gzip when the
 * client takes it. Node's own setHeader and end, not Express's res.set and res.send: the headers are
 * known to be valid, and this runs for most requests the API serves.
 */
function sendReport(req: Request, res: Response, report: CachedReport): void {
  res.setHeader(AS_OF_HEADER, report.asOf);
  res.setHeader('Cache-Control', REPORT_CACHE_CONTROL);
  res.setHeader('Vary', 'Authorization, Accept-Encoding');
  res.setHeader('ETag', report.etag);
  if (req.fresh) {
    res.statusCode = 304;
    res.end();
    return;
  }
  const gzip = report.gzip !== undefined && req.acceptsEncodings('gzip', 'identity') === 'gzip';
  const body = gzip ? report.gzip! : report.body;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  if (gzip) res.setHeader('Content-Encoding', 'gzip');
  res.setHeader('Content-Length', body.length);
  res.end(body);
}

/**
 * `/users`, `/users.csv` and `/utilization`. JSON reports go through the report cache (`deps.cache`):
 * validation (400s), authentication and the ownership check (404s) run on every request; only the
 * computation of a valid report of an owned integration is shared. users.csv streams and is never cached.
 * Each computation (a report the cache could not answer) spends one unit of the tenant's `reports` budget,
 * so hits stay free and query-free; each export one of its `csv` budget and a slot (src/api/csvExport.ts).
 */
export function reportsRouter(deps: ApiDeps & { cache: ApiCache; limits: TenantLimits; csvSlots: LocalCsvSlots; reportGate: TenantGate }): Router {
  const router = Router();
  const { db, config, cache, limits, reportGate } = deps;
  // `inactiveDays` is capped by this server's activity retention (older events are deleted).
  const { UsersQuery, UsersCsvQuery, UtilizationQuery, ReclaimableQuery } = reportQuerySchemas(config.activityRetentionDays);

  // Cached: a report hit costs no query. A disconnect under way serves no more reports.
  const ownIntegration = integrationOwnership({ db, cache, alsoHidden: ['disconnecting'] });

  const listing = (integrationId: string, parsed: ParsedFilters): Listing => {
    const filters = filtersOf(parsed);
    const inactiveDays = parsed.inactiveDays ?? config.inactiveAfterDays;
    return {
      integrationId,
      filters,
      sort: parsed.sort ? parseSort(parsed.sort) : DEFAULT_SORT,
      inactiveDays,
      fingerprint: queryFingerprint(integrationId, filters, inactiveDays),
    };
  };

  /** A valid `/users` query of one tenant's integration, parsed, with its report cache key. */
  const parseUsers = (tenantId: string, integrationId: string, query: unknown) => {
    const { limit = 100, cursor: token, ...filterParams } = parseOr400(UsersQuery, query, 'listing');
    const l = listing(integrationId, filterParams);
    let cursor: Cursor | undefined;
    if (token !== undefined) {
      const decoded = decodeCursor(token, { sort: l.sort, fingerprint: l.fingerprint });
      if (!decoded.ok) throw invalidRequest('listing', [{ name: 'cursor', reason: decoded.reason }]);
      cursor = decoded.cursor;
    }
    const key = reportCacheKey('users', tenantId, integrationId, {
      ...l.filters,
      sort: sortParam(l.sort),
      inactiveDays: l.inactiveDays,
      limit,
      cursor: token,
    });
    return { listing: l, limit, cursor, key };
  };
  const usersQueries = new ParsedQueries<ReturnType<typeof parseUsers>>();

  router.get('/v1/integrations/:id/users', async (req, res: Response) => {
    const integration = await ownIntegration(req);
    const tenantId = req.tenant!.id;
    const { listing: l, limit, cursor, key } = usersQueries.get(tenantId, integration.id, req, parseUsers);
    const { value } = await cache.reports.get(key, [integrationTag(integration.id), tenantTag(tenantId)], () =>
      tenantComputation(limits, reportGate, res, tenantId, async () => {
        const window = windowFor(l.inactiveDays, cursor);
        const [page, total, completeness] = await Promise.all([
          findUserPage(db, { integrationId: l.integrationId, filters: l.filters, sort: l.sort, window, limit, after: cursor?.position }),
          countUsers(db, l.integrationId, l.filters, window),
          reportCompleteness(db, integration),
        ]);
        const basis = usageBasis(completeness.activityDays, l.inactiveDays);
        const body: z.infer<typeof UserList> = {
          users: page.rows.map((row) => userView(row, basis)),
          total,
          nextCursor: page.next ? encodeCursor({ sort: l.sort, position: page.next, asOf: window.asOf, fingerprint: l.fingerprint }) : null,
          completeness: completeness.streams,
        };
        return await cachedReport(body, window.asOf);
      }),
    );
    sendReport(req, res, value);
  });

  router.get('/v1/integrations/:id/users.csv', async (req, res: Response) => {
    const integration = await ownIntegration(req);
    const { raw, ...parsed } = parseOr400(UsersCsvQuery, req.query, 'listing', { limit: CSV_ONLY_REASON, cursor: CSV_ONLY_REASON });
    const l = listing(integration.id, parsed);
    const completeness = await reportCompleteness(db, integration);
    await exportUsersCsv(deps, res, {
      usageBasis: usageBasis(completeness.activityDays, l.inactiveDays),
      tenantId: req.tenant!.id,
      workspace: integration.workspace,
      integrationId: integration.id,
      request: { integrationId: l.integrationId, filters: l.filters, sort: l.sort, window: windowFor(l.inactiveDays, undefined) },
      raw: raw ?? false,
    });
  });

  const parseUtilization = (tenantId: string, integrationId: string, query: unknown) => {
    const inactiveDays = parseOr400(UtilizationQuery, query, 'listing').inactiveDays ?? config.inactiveAfterDays;
    return { inactiveDays, key: reportCacheKey('utilization', tenantId, integrationId, { inactiveDays }) };
  };
  const utilizationQueries = new ParsedQueries<ReturnType<typeof parseUtilization>>();

  router.get('/v1/integrations/:id/utilization', async (req, res: Response) => {
    const integration = await ownIntegration(req);
    // Settings (the seat price) and reclamations change the savings: both drop the cached report (integration row updates).
    const withSavings = async (body: z.infer<typeof Utilization>) => ({ ...body, savings: await savingsFor(db, integration, body) });
    const tenantId = req.tenant!.id;
    const { inactiveDays, key } = utilizationQueries.get(tenantId, integration.id, req, parseUtilization);
    const { value } = await cache.reports.get(key, [integrationTag(integration.id), tenantTag(tenantId)], async () => {
      // The default inactiveDays: the report the worker stored at the end of the last sync (or when its seat
      // part was done), one indexed read, as of when it was taken. Other values, or none stored yet: computed.
      if (inactiveDays === config.inactiveAfterDays) {
        const stored = await snapshotBody(db, integration.id, inactiveDays);
        if (stored) return cachedReport(await withSavings(stored.body), stored.takenAt);
      }
      return tenantComputation(limits, reportGate, res, tenantId, async () => {
        const window = windowFor(inactiveDays, undefined);
        const body: z.infer<typeof Utilization> = await utilizationBody(db, integration, window);
        return await cachedReport(await withSavings(body), window.asOf);
      });
    });
    sendReport(req, res, value);
  });

  /** A valid `/reclaimable` query: its page size, cursor and cache key. */
  const parseReclaimable = (tenantId: string, integrationId: string, query: unknown) => {
    const { limit = 100, cursor: token, inactiveDays: days } = parseOr400(ReclaimableQuery, query, 'listing');
    const inactiveDays = days ?? config.inactiveAfterDays;
    const fingerprint = `reclaimable:${queryFingerprint(integrationId, { includeDeleted: false }, inactiveDays)}`;
    let cursor: Cursor | undefined;
    if (token !== undefined) {
      const decoded = decodeCursor(token, { sort: RECLAIMABLE_ORDER, fingerprint, noDateFirst: true });
      if (!decoded.ok) throw invalidRequest('listing', [{ name: 'cursor', reason: decoded.reason }]);
      cursor = decoded.cursor;
    }
    return { inactiveDays, limit, cursor, fingerprint, key: reportCacheKey('reclaimable', tenantId, integrationId, { inactiveDays, limit, cursor: token }) };
  };
  const reclaimableQueries = new ParsedQueries<ReturnType<typeof parseReclaimable>>();

  router.get('/v1/integrations/:id/reclaimable', async (req, res: Response) => {
    const integration = await ownIntegration(req);
    const tenantId = req.tenant!.id;
    const { inactiveDays, limit, cursor, fingerprint, key } = reclaimableQueries.get(tenantId, integration.id, req, parseReclaimable);
    const { value } = await cache.reports.get(key, [integrationTag(integration.id), tenantTag(tenantId)], () =>
      tenantComputation(limits, reportGate, res, tenantId, async () => {
        const window = windowFor(inactiveDays, cursor);
        const page = await reclaimablePage(db, integration.id, window, limit, cursor?.position);
        const body: z.infer<typeof ReclaimableList> = {
          users: page.rows,
          total: page.total,
          nextCursor: page.next ? encodeCursor({ sort: RECLAIMABLE_ORDER, position: page.next, asOf: window.asOf, fingerprint }) : null,
        };
        return await cachedReport(body, window.asOf);
      }),
    );
    sendReport(req, res, value);
  });

  return router;
}

/** The order of the reclaimable list as its cursors record it (least recently active first). */
const RECLAIMABLE_ORDER: Sort = { field: 'lastActivityAt', desc: false };
