// GET /api/v2/users/me, /api/v2/users (cursor and offset pagination) and /api/v2/users/{id}.

import { authenticate, authorize } from './auth';
import { decodeIdCursor, encodeIdCursor } from './cursor';
import { forbidden, json, recordNotFound, type Reply, type RequestContext } from './http';
import { randomBytes } from 'node:crypto';
import { apiWarning } from './apiWarn';
import { matchingUsers, roleCodes } from './userQuery';

const MAX_PAGE_SIZE = 100;
const OFFSET_RECORD_LIMIT = 10_000;

/** What Zendesk answers to callers it cannot identify (it does not 401 here). */
function anonymousUser(): Record<string, unknown> {
  return {
    id: null,
    url: null,
    name: 'Anonymous user',
    email: 'invalid@example.com',
    created_at: null,
    updated_at: null,
    time_zone: 'UTC',
    iana_time_zone: 'Etc/UTC',
    phone: null,
    shared_phone_number: null,
    photo: null,
    locale_id: 1,
    locale: 'en-US',
    organization_id: null,
    role: 'end-user',
    verified: false,
    authenticity_token: randomBytes(24).toString('base64'),
  };
}

/** GET /api/v2/users/me: anonymous callers (no or bad token) get the anonymous user with 200. */
export function usersMe(ctx: RequestContext): Reply {
  const auth = authenticate(ctx);
  // A dead bearer token makes the caller anonymous here rather than unauthorised.
  if (auth.kind === 'none' || (auth.kind === 'invalid' && auth.scheme === 'bearer')) return json(200, { user: anonymousUser() });
  if (auth.kind === 'invalid') return auth.reply;
  if (!auth.grant.scopeValid) return forbidden();
  const user = ctx.ws.userJson(auth.user.id);
  return json(200, { user: { ...user, authenticity_token: randomBytes(24).toString('base64') } });
}

function badPagination(description: string): Reply {
  return json(400, { error: 'InvalidPaginationParameter', description });
}

/** Past the first 10,000 records Zendesk refuses offset pages with a typed JSON error (live probes). */
function paginationTooDeep(): Reply {
  return json(400, { errors: [{ code: 'InvalidPaginationDepth', title: 'Pagination requests using Offset Pagination are limited' }] });
}

const KNOWN_LIST_PARAMS = new Set([
  'role',
  'role[]',
  'permission_set',
  'external_id',
  'include',
  'sort',
  'page',
  'per_page',
  'page[size]',
  'page[after]',
  'page[before]',
  'include_boundary_indicators',
  'include_item_cursors',
]);

/** GET /api/v2/users */
export function listUsers(ctx: RequestContext): Reply {
  const a = authorize(ctx, { role: 'staff', read: 'users' });
  if (!a.ok) return a.reply;
  const q = ctx.query;
  // A misspelt filter (`roles=agent,admin`) is no filter at all, as in Zendesk: end users come back too.
  const codes = roleCodes(q);
  const store = ctx.ws.userStore;

  const cursorMode = q.has('page[size]') || q.has('page[after]') || q.has('page[before]');
  const offsetMode = q.has('page') || q.has('per_page');
  if (cursorMode && offsetMode) return badPagination('Cursor and offset pagination parameters cannot be combined.');
  const warn = apiWarning(q, 'index', KNOWN_LIST_PARAMS);

  if (!cursorMode) {
    const page = q.has('page') ? Number(q.get('page')) : 1;
    let perPage = q.has('per_page') ? Number(q.get('per_page')) : MAX_PAGE_SIZE;
    if (!Number.isInteger(page) || page < 1 || !Number.isInteger(perPage) || perPage < 1) {
      return badPagination('page and per_page must be positive integers.');
    }
    perPage = Math.min(perPage, MAX_PAGE_SIZE);
    if ((page - 1) * perPage >= OFFSET_RECORD_LIMIT) return paginationTooDeep();
    const skip = (page - 1) * perPage;
    // Offset pages stop at 10,000 records, so reading up to the page is bounded; the count is kept.
    const users = matchingUsers(store, codes, {}, skip + perPage)
      .slice(skip)
      .map((i) => ctx.ws.userJsonAt(i));
    const count = store.activeCount(codes);
    const link = (p: number) => {
      const params = new URLSearchParams(q);
      params.set('page', String(p));
      params.set('per_page', String(perPage));
      return `${ctx.baseUrl}/api/v2/users.json?${params}`;
    };
    return json(
      200,
      {
        users,
        next_page: skip + perPage < count ? link(page + 1) : null,
        previous_page: page > 1 ? link(page - 1) : null,
        count,
      },
      warn,
    );
  }

  const sizeRaw = q.get('page[size]');
  const size = sizeRaw === null || sizeRaw === '' ? MAX_PAGE_SIZE : Number(sizeRaw);
  if (!Number.isInteger(size) || size < 1) return badPagination('page[size] must be a positive integer.');
  if (size > MAX_PAGE_SIZE) return badPagination(`page[size] must be less than or equal to ${MAX_PAGE_SIZE}.`);
  const after = q.get('page[after]');
  const before = q.get('page[before]');
  if (after !== null && before !== null) return badPagination('page[after] and page[before] cannot be combined.');

  let indexes: number[];
  let hasMore: boolean;
  if (before !== null) {
    const id = decodeIdCursor(before);
    if (id === null) return badPagination('page[before] is not a valid cursor.');
    // One more than the page tells whether there is more.
    indexes = matchingUsers(store, codes, { beforeId: id }, size + 1);
    hasMore = indexes.length > size;
    indexes = indexes.slice(0, size).reverse();
  } else {
    let afterId: number | undefined;
    if (after !== null) {
      const id = decodeIdCursor(after);
      if (id === null) return badPagination('page[after] is not a valid cursor.');
      afterId = id;
    }
    indexes = matchingUsers(store, codes, { afterId }, size + 1);
    hasMore = indexes.length > size;
    indexes = indexes.slice(0, size);
  }

  const afterCursor = indexes.length > 0 ? encodeIdCursor(store.idAt(indexes[indexes.length - 1]!)) : null;
  const beforeCursor = indexes.length > 0 ? encodeIdCursor(store.idAt(indexes[0]!)) : null;
  // As recorded: no `.json`, the cursor parameter first, then page[size], then the other parameters.
  const link = (key: 'page[after]' | 'page[before]', cursor: string | null) => {
    if (cursor === null) return null;
    const params = new URLSearchParams();
    params.set(key, cursor);
    params.set('page[size]', String(size));
    for (const [k, v] of q) if (k !== 'page[after]' && k !== 'page[before]' && k !== 'page[size]') params.append(k, v);
    return `${ctx.baseUrl}/api/v2/users?${params}`;
  };
  // Recorded: has_more is sent without include_boundary_indicators too. The option restores what older
  // clients reported (has_more only with the flag).
  const withHasMore = !ctx.ws.hasMoreOnlyWithBoundaryIndicators || q.get('include_boundary_indicators') === 'true';
  const meta: Record<string, unknown> = withHasMore ? { has_more: hasMore } : {};
  meta.after_cursor = afterCursor;
  meta.before_cursor = beforeCursor;
  return json(
    200,
    {
      users: indexes.map((i) => ctx.ws.userJsonAt(i)),
      meta,
      links: { prev: link('page[before]', beforeCursor), next: link('page[after]', afterCursor) },
    },
    warn,
  );
}

/** GET /api/v2/users/{id}: staff see anyone, end users only themselves. */
export function showUser(ctx: RequestContext, id: number): Reply {
  const a = authorize(ctx, { role: 'any', read: 'users' });
  if (!a.ok) return a.reply;
  if (a.auth.user.role === 'end-user' && a.auth.user.id !== id) return forbidden();
  const user = ctx.ws.userJson(id);
  if (!user) return recordNotFound();
  return json(200, { user });
}
