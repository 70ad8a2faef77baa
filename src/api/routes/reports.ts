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
import { ReclaimableList, reportQuerySchemas, UserList, Utilization, type UsersCsvQuery } from '../reportSchemas';
import { BAD_REQUEST, NOT_FOUND, TOO_MANY_REQUESTS, UNAUTHORIZED } from '../routeResponses';
import { defineRoute, mount, type ResponseSpec } from '../routeSpec';
import { IntegrationIdParams } from '../schemas';
import type { Integration } from '../../db/tables';
import { invalidRequest, parseOr400 } from '../validate';

/** The header naming the instant a report judged activity at (also inside every cursor). */
const AS_OF_HEADER = 'Report-As-Of';

/**
 * Report responses may be kept by the client (they are the caller's own data, hence `private`) but must
 * be revalidated: the ETag turns an unchanged report into a 304.
 */
const REPORT_CACHE_CONTROL = 'private, no-cache';

const CSV_ONLY_REASON = 'is not supported by users.csv, which always returns every row';

const AS_OF = {
  [AS_OF_HEADER]: {
    description: 'The instant activity was judged at (ISO-8601 UTC); every page of one listing shares it',
    schema: { type: 'string', format: 'date-time' },
  },
};

/** Headers of the cached JSON reports (`sendReport`), on 200 and 304 alike. */
const CACHED_REPORT = {
  ...AS_OF,
  ETag: {
    description: 'A weak validator of the body: send it back as `If-None-Match` to get 304 Not Modified while the report is unchanged',
    schema: { type: 'string' },
  },
  'Cache-Control': {
    description: '`private, no-cache`: a client may keep the report but must revalidate it (with `If-None-Match`) before using it again',
    schema: { type: 'string' },
  },
};

const REPORT_NOT_MODIFIED: ResponseSpec = {
  description: "Not Modified: `If-None-Match` matches the report's `ETag`, so the copy the client holds is current (no body)",
  headers: CACHED_REPORT,
};

/** How a cached report behaves, for the descriptions of /users, /utilization and /reclaimable. */
const CACHING =
  "Answers are cached by the API until a sync (or any other change) writes this integration's data — the cache is invalidated by " +
  'PostgreSQL notifications, so a finished sync shows in the next request — and for at most REPORT_CACHE_TTL_SECONDS (60 s by ' +
  'default): a cached answer is the report as of its `Report-As-Of` instant, which is never older than that. Repeating a request ' +
  'within that time may therefore return the same `asOf`. Parameter order and the order of list values do not matter. ' +
  "A report the cache cannot answer spends the tenant's `reports` budget: one unit, plus one per further 100 ms it took (a cached answer spends none).";

/** 429: the `requests` budget (app.ts), and inside a route the `reports` or `csv` one. */
const ERRORS = { 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND, 429: TOO_MANY_REQUESTS };

/**
 * The report routes of a server, with the query schemas it validates by: `inactiveDays` is capped by its
 * ACTIVITY_RETENTION_DAYS, so the document states that server's cap.
 */
export function reportRoutes(queries: ReturnType<typeof reportQuerySchemas>) {
  const report = { tag: 'reports', security: 'tenant', params: IntegrationIdParams } as const;
  return {
    users: defineRoute({
      ...report,
      method: 'get',
      path: '/v1/integrations/{id}/users',
      operationId: 'listUsers',
      summary: 'Zendesk users with seat and activity, filtered, sorted, paginated',
      description: [
        'Keyset pagination: pass `nextCursor` back as `cursor` with the same other parameters. Rows written by a sync between two pages',
        'never make another row skip or repeat; a cursor also pins the as-of instant, so every page judges activity at the same moment',
        '(a row whose own sort key changes meanwhile, e.g. a user who signs in during a `lastLoginAt` walk, is listed at its new place).',
        '`lastTicketInteractionAt` is the newest synced ticket event of the user overall (not limited to the window); `ticketInteractions`',
        'counts the events in [asOf − inactiveDays, asOf]. Unknown parameters and bad values are 400 naming each one.',
        CACHING,
      ].join(' '),
      query: queries.UsersQuery,
      responses: { 200: { description: 'A page of users', body: UserList, headers: CACHED_REPORT }, 304: REPORT_NOT_MODIFIED, ...ERRORS },
    }),
    usersCsv: defineRoute({
      ...report,
      method: 'get',
      path: '/v1/integrations/{id}/users.csv',
      operationId: 'exportUsersCsv',
      summary: 'The same users as CSV: every page, streamed',
      description: [
        'RFC 4180: a header row with the User field names in order, CRLF line ends, UTF-8. Same filters and sort as /users (no `limit` or `cursor`).',
        'Fields are quoted when they hold a comma, a quote, a line break or edge whitespace; null is an empty field, an empty string `""`;',
        'booleans `true`/`false`; timestamps ISO-8601 UTC. If the export fails midway the connection is cut rather than ended, so a',
        'download is either complete or visibly truncated. Never cached: every export reads the database, as one consistent snapshot',
        '(one REPEATABLE READ transaction read through one server-side cursor), streamed as the client reads it.',
        'Spreadsheets: a text value that would be evaluated as a formula (it starts with `=`, `+`, `-`, `@`, tab or CR, or a full-width',
        "`＝＋－＠`) is written with a leading `'` unless `raw=true` (see `raw`). Each export spends one unit of the tenant's `csv`",
        'budget, and at most API_CSV_CONCURRENCY (2 by default) run at once per tenant: more is 429.',
      ].join(' '),
      query: queries.UsersCsvQuery,
      // Streamed, without an ETag: never a 304.
      responses: {
        200: { description: 'CSV of every matching user', body: { mediaType: 'text/csv', description: 'One row per user' }, headers: AS_OF },
        ...ERRORS,
      },
    }),
    utilization: defineRoute({
      ...report,
      method: 'get',
      path: '/v1/integrations/{id}/utilization',
      operationId: 'getUtilization',
      summary: 'License utilization: paid and free seats, by role type, reclaimable seats',
      description: `Over agents and admins that are not deleted. A suspended agent still holds a paid seat until downgraded to end user: it is counted in \`paidSeats.suspended\` and listed as reclaimable with reason \`suspended\` (the seats: \`GET /v1/integrations/{id}/reclaimable\`). For the server's default \`inactiveDays\` this is the report the worker stored when the last sync's seat part was done or the sync succeeded (a utilization snapshot): \`asOf\` is when it was taken. Other \`inactiveDays\`, or before the first snapshot, are computed at the request. ${CACHING}`,
      query: queries.UtilizationQuery,
      responses: { 200: { description: 'Utilization', body: Utilization, headers: CACHED_REPORT }, 304: REPORT_NOT_MODIFIED, ...ERRORS },
    }),
    reclaimable: defineRoute({
      ...report,
      method: 'get',
      path: '/v1/integrations/{id}/reclaimable',
      operationId: 'listReclaimableSeats',
      summary: 'The reclaimable paid seats, a page at a time',
      description: `Every suspended or inactive paid seat (the count is in \`/utilization\`'s \`reclaimable\`), least recently active first. ${CACHING}`,
      query: queries.ReclaimableQuery,
      responses: { 200: { description: 'A page of reclaimable seats', body: ReclaimableList, headers: CACHED_REPORT }, 304: REPORT_NOT_MODIFIED, ...ERRORS },
    }),
  };
}

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

export type ReportDeps = ApiDeps & { cache: ApiCache; limits: TenantLimits; csvSlots: LocalCsvSlots; reportGate: TenantGate };

/**
 * The reports' computations, behind the report cache: the one implementation of `/users`, `users.csv`,
 * `/utilization` and `/reclaimable`, which their routes answer with and the utilization view
 * (src/api/routes/viewPage.ts) renders — so the page's numbers are the API's, cached under the same keys.
 * Each takes a valid query (unknown input: 400 naming each parameter) of an integration the caller has already
 * found to be the tenant's, and `res` for the rate-limit headers of a computation the cache could not answer.
 */
export function reportComputations(deps: ReportDeps) {
  const { db, config, cache, limits, reportGate } = deps;
  // `inactiveDays` is capped by this server's activity retention (older events are deleted).
  const queries = reportQuerySchemas(config.activityRetentionDays);
  const { UsersQuery, UsersCsvQuery, UtilizationQuery, ReclaimableQuery } = queries;

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

  const users = async (res: Response, tenantId: string, integration: Integration, parsed: ReturnType<typeof parseUsers>): Promise<CachedReport> => {
    const { listing: l, limit, cursor, key } = parsed;
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
    return value;
  };

  /** users.csv of a query (the /users filters and sort; no `limit` or `cursor`), streamed to `res`. */
  const usersCsv = async (res: Response, tenantId: string, integration: Integration, query: unknown): Promise<void> => {
    const { raw, ...parsed } = parseOr400(UsersCsvQuery, query, 'listing', { limit: CSV_ONLY_REASON, cursor: CSV_ONLY_REASON });
    const l = listing(integration.id, parsed);
    const completeness = await reportCompleteness(db, integration);
    await exportUsersCsv(deps, res, {
      usageBasis: usageBasis(completeness.activityDays, l.inactiveDays),
      tenantId,
      workspace: integration.workspace,
      integrationId: integration.id,
      request: { integrationId: l.integrationId, filters: l.filters, sort: l.sort, window: windowFor(l.inactiveDays, undefined) },
      raw: raw ?? false,
    });
  };

  const parseUtilization = (tenantId: string, integrationId: string, query: unknown) => {
    const inactiveDays = parseOr400(UtilizationQuery, query, 'listing').inactiveDays ?? config.inactiveAfterDays;
    return { inactiveDays, key: reportCacheKey('utilization', tenantId, integrationId, { inactiveDays }) };
  };

  const utilization = async (
    res: Response,
    tenantId: string,
    integration: Integration,
    { inactiveDays, key }: ReturnType<typeof parseUtilization>,
  ): Promise<CachedReport> => {
    // Settings (the seat price) and reclamations change the savings: both drop the cached report (integration row updates).
    const withSavings = async (body: z.infer<typeof Utilization>) => ({ ...body, savings: await savingsFor(db, integration, body, inactiveDays) });
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
    return value;
  };

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

  const reclaimable = async (
    res: Response,
    tenantId: string,
    integration: Integration,
    { inactiveDays, limit, cursor, fingerprint, key }: ReturnType<typeof parseReclaimable>,
  ): Promise<CachedReport> => {
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
    return value;
  };

  return { queries, parseUsers, users, usersCsv, parseUtilization, utilization, parseReclaimable, reclaimable };
}

/**
 * `/users`, `/users.csv` and `/utilization`. JSON reports go through the report cache (`deps.cache`):
 * validation (400s), authentication and the ownership check (404s) run on every request; only the
 * computation of a valid report of an owned integration is shared. users.csv streams and is never cached.
 * Each computation (a report the cache could not answer) spends one unit of the tenant's `reports` budget,
 * so hits stay free and query-free; each export one of its `csv` budget and a slot (src/api/csvExport.ts).
 */
export function reportsRouter(deps: ReportDeps): Router {
  const router = Router();
  const reports = reportComputations(deps);
  const routes = reportRoutes(reports.queries);

  // Cached: a report hit costs no query. A disconnect under way serves no more reports.
  const ownIntegration = integrationOwnership({ db: deps.db, cache: deps.cache, alsoHidden: ['disconnecting'] });

  const usersQueries = new ParsedQueries<ReturnType<typeof reports.parseUsers>>();
  mount(router, routes.users, async (req, res: Response) => {
    const integration = await ownIntegration(req);
    const tenantId = req.tenant!.id;
    sendReport(req, res, await reports.users(res, tenantId, integration, usersQueries.get(tenantId, integration.id, req, reports.parseUsers)));
  });

  mount(router, routes.usersCsv, async (req, res: Response) => {
    const integration = await ownIntegration(req);
    await reports.usersCsv(res, req.tenant!.id, integration, req.query);
  });

  const utilizationQueries = new ParsedQueries<ReturnType<typeof reports.parseUtilization>>();
  mount(router, routes.utilization, async (req, res: Response) => {
    const integration = await ownIntegration(req);
    const tenantId = req.tenant!.id;
    const parsed = utilizationQueries.get(tenantId, integration.id, req, reports.parseUtilization);
    sendReport(req, res, await reports.utilization(res, tenantId, integration, parsed));
  });

  const reclaimableQueries = new ParsedQueries<ReturnType<typeof reports.parseReclaimable>>();
  mount(router, routes.reclaimable, async (req, res: Response) => {
    const integration = await ownIntegration(req);
    const tenantId = req.tenant!.id;
    const parsed = reclaimableQueries.get(tenantId, integration.id, req, reports.parseReclaimable);
    sendReport(req, res, await reports.reclaimable(res, tenantId, integration, parsed));
  });

  return router;
}

/** The order of the reclaimable list as its cursors record it (least recently active first). */
const RECLAIMABLE_ORDER: Sort = { field: 'lastActivityAt', desc: false };
