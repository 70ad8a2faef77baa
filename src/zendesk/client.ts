import type { Kysely } from 'kysely';
import type { z } from 'zod';
import { DEFAULT_ACCESS_TOKEN_EXPIRES_IN, DEFAULT_REFRESH_TOKEN_EXPIRES_IN, type Config } from '../config';
import type { SecretBox } from '../crypto/secretBox';
import { loadCredentials } from '../db/repositories/credentials';
import type { Database } from '../db/tables';
import { ZendeskAuthError, ZendeskFilterIgnoredError, ZendeskBadResponseError, ZendeskRateLimitedError, ZendeskTransientError } from './errors';
import { parseBody, zendeskRequest, type QueryValue, type RequestInfo, type ZendeskObserver } from './http';
import { revokeToken, type RevokeResult } from './oauth';
import { RateLimiter, type ProcessRateLimits, type RateLimiterOptions } from './rateLimit/rateLimiter';
import { waitTicking, type OnWait } from './rateLimit/waits';
import { readTicketEvents, readUsers, type RecordAnomaly, type SkippedRecord } from './records';
import {
  entitlementsResponseSchema,
  customRolesSchema,
  groupMembershipResponseSchema,
  groupMembershipsPageSchema,
  type GroupMembershipRecord,
  meResponseSchema,
  showManyUsersSchema,
  usersCountSchema,
  usersListPageSchema,
  type EntitlementsResponse,
  seatUserResponseSchema,
  type SeatUserRecord,
  ticketEventsPageSchema,
  usersCursorPageSchema,
  type TicketEvent,
  type ZendeskMe,
  type ZendeskUserRecord,
} from './schemas';
import { TokenProvider } from './tokens';
import { Unauthorized401s } from './unauthorized';
import { workspaceBaseUrl } from './workspace';

/**
 * The Zendesk client of one integration's workspace. Every call: rate-limit gate → access token → request →
 * on 401 invalid_token recover (Unauthorized401s: the current token when someone else rotated the pair, else
 * a refresh) and retry → on 429 / 503-with-Retry-After wait exactly Retry-After (through the limiter, so the
 * block is shared) and retry → on other 5xx, network errors, timeouts and malformed bodies back off
 * exponentially, up to `maxAttempts`, then throw (Temporal retries the activity).
 */

/** The `zendesk` part of Config; the token lifetimes default to config's defaults (tests build it by hand). */
type ZendeskConfig = Omit<Config['zendesk'], 'accessTokenExpiresIn' | 'refreshTokenExpiresIn'> &
  Partial<Pick<Config['zendesk'], 'accessTokenExpiresIn' | 'refreshTokenExpiresIn'>>;

export interface ZendeskClientDeps {
  db: Kysely<Database>;
  box: SecretBox;
  /** The whole Config or just its `zendesk` part. */
  config: { zendesk: ZendeskConfig } | ZendeskConfig;
  integrationId: string;
  subdomain: string;
  /** The worker process's rate-limit state (ActivityDeps.rateLimits), shared by all its clients. */
  rateLimits: ProcessRateLimits;
  observer?: ZendeskObserver;
  /**
   * Called while waiting (a rate-limit block, a turn on an endpoint bucket, a backoff between attempts) at
   * least every few seconds, so an activity can heartbeat. If it throws, the wait ends with that error.
   */
  onWait?: OnWait;
  /**
   * An activity's cancellation signal: aborts the request in flight and every wait (rate limits, backoffs)
   * at once, with the signal's reason (a worker's grace time ended, or the activity was cancelled).
   */
  signal?: AbortSignal;
  /** Attempts for transient failures (5xx, network, timeout, malformed). Default 4. */
  maxAttempts?: number;
  /** Base of the exponential backoff: base × 2^n with ±25 % jitter. Default 500 ms. */
  backoffBaseMs?: number;
  /** Retries after 429 / 503-with-Retry-After inside one call before giving up. Default 8. */
  maxRateLimitRetries?: number;
  /** Refresh the access token when it expires within this many ms. Default 60 s. */
  tokenRefreshMarginMs?: number;
  limiter?: Partial<Omit<RateLimiterOptions, 'process' | 'workspace'>>;
}

export interface ZendeskClientStats {
  /** HTTP requests sent (all endpoints, token refreshes included). */
  requests: number;
  /** 429 responses received. */
  rateLimited: number;
}

export type UsersPageParams = { cursor: string } | { startTime: number };

/** What a page's records came to: the usable ones, and the quarantined ones and surprises to report. */
interface PageRecords {
  skipped: SkippedRecord[];
  anomalies: RecordAnomaly[];
}

export interface UsersCursorPage extends PageRecords {
  users: ZendeskUserRecord[];
  after_cursor: string | null;
  before_cursor: string | null;
  end_of_stream: boolean;
}

export interface SeatHoldersPage extends PageRecords {
  users: ZendeskUserRecord[];
  afterCursor: string | null;
  hasMore: boolean;
}

export interface TicketEventsPage extends PageRecords {
  ticket_events: TicketEvent[];
  end_time: number;
  end_of_stream: boolean;
  /** Entries in the page as Zendesk sent them, broken ones included. */
  entries: number;
}

/** How often `onWait` is called during the client's own sleeps (backoffs, a rate-limited token endpoint). */
const WAIT_TICK_MS = 2_000;
/** Pages of one user's group memberships read at most (10,000 memberships). */
const MAX_MEMBERSHIP_PAGES = 100;

function zendeskConfig(config: ZendeskClientDeps['config']): ZendeskConfig {
  return 'zendesk' in config ? config.zendesk : config;
}

export class ZendeskClient {
  readonly stats: ZendeskClientStats = { requests: 0, rateLimited: 0 };
  readonly baseUrl: string;
  readonly subdomain: string;
  readonly tokens: TokenProvider;
  readonly limiter: RateLimiter;
  private readonly timeoutMs: number;
  private readonly observer: ZendeskObserver;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly maxRateLimitRetries: number;

  constructor(private readonly deps: ZendeskClientDeps) {
    const zendesk = zendeskConfig(deps.config);
    if (!zendesk.clientId || !zendesk.clientSecret) throw new Error('ZENDESK_CLIENT_ID and ZENDESK_CLIENT_SECRET must be configured');
    this.subdomain = deps.subdomain;
    this.baseUrl = workspaceBaseUrl(zendesk.baseUrlTemplate, deps.subdomain);
    this.timeoutMs = zendesk.requestTimeoutMs;
    this.maxAttempts = Math.max(1, deps.maxAttempts ?? 4);
    this.backoffBaseMs = deps.backoffBaseMs ?? 500;
    this.maxRateLimitRetries = deps.maxRateLimitRetries ?? 8;
    this.observer = {
      onRequest: (info: RequestInfo) => {
        this.stats.requests++;
        if (info.status === 429) this.stats.rateLimited++;
        deps.observer?.onRequest?.(info);
      },
    };
    this.limiter = new RateLimiter({ ...deps.limiter, process: deps.rateLimits, workspace: deps.subdomain, signal: deps.signal });
    this.tokens = new TokenProvider({
      db: deps.db,
      box: deps.box,
      integrationId: deps.integrationId,
      baseUrl: this.baseUrl,
      clientId: zendesk.clientId,
      clientSecret: zendesk.clientSecret,
      timeoutMs: this.timeoutMs,
      refreshMarginMs: deps.tokenRefreshMarginMs,
      accessTokenExpiresIn: zendesk.accessTokenExpiresIn ?? DEFAULT_ACCESS_TOKEN_EXPIRES_IN,
      refreshTokenExpiresIn: zendesk.refreshTokenExpiresIn ?? DEFAULT_REFRESH_TOKEN_EXPIRES_IN,
      observer: this.observer,
      subdomain: deps.subdomain,
    });
  }

  /**
   * `GET /api/v2/users/me` → the authorizing user. Zendesk answers a dead bearer token here with 200 and an
   * anonymous user (`id: null`) instead of a 401; that is treated exactly like a 401 invalid_token (refresh
   * once and retry, then ZendeskAuthError('invalid_token')), so the returned user always has an id.
   * Check `role` before trusting the grant (exports are admin-only).
   */
  async getMe(): Promise<ZendeskMe & { id: number }> {
    return this.send('GET', '/api/v2/users/me.json', {}, undefined, true, (body, status) => {
      const { user } = parseBody(meResponseSchema, body, status, 'GET /api/v2/users/me');
      if (user.id === null) throw new ZendeskAuthError('invalid_token', status);
      return { ...user, id: user.id };
    });
  }

  /** One page of the incremental users cursor export (first page by start_time, later ones by cursor). */
  async incrementalUsersPage(params: UsersPageParams, perPage = 1000): Promise<UsersCursorPage> {
    const query: Record<string, QueryValue> =
      'cursor' in params ? { cursor: params.cursor, per_page: perPage } : { start_time: Math.floor(params.startTime), per_page: perPage };
    const page = await this.get('/api/v2/incremental/users/cursor.json', query, usersCursorPageSchema);
    const { records, skipped, anomalies } = readUsers(page.users);
    return { ...page, users: records, skipped, anomalies };
  }

  /** One page of the incremental ticket events export; continue with start_time = end_time until end_of_stream. */
  async ticketEventsPage(startTime: number, perPage = 1000, includeComments = false): Promise<TicketEventsPage> {
    // support_type_scope=agent (Zendesk's default, sent so a change of default cannot change the counts):
    // events of tickets handled by Zendesk's AI agents are not a person's activity (docs/zendesk.md §3).
    const query: Record<string, QueryValue> = { start_time: Math.floor(startTime), per_page: perPage, support_type_scope: 'agent' };
    if (includeComments) query.include = 'comment_events';
    const page = await this.get('/api/v2/incremental/ticket_events.json', query, ticketEventsPageSchema);
    const { records, skipped, anomalies } = readTicketEvents(page.ticket_events);
    return { ...page, ticket_events: records, entries: page.ticket_events.length, skipped, anomalies };
  }

  /**
   * One page of the seat holders: `GET /api/v2/users?role[]=agent&role[]=admin`, cursor pagination, 100 a
   * page (its cost is the number of seat holders, whatever the number of end users). Zendesk ignores a
   * filter it does not understand and says so only in `x-zendesk-api-warn`, so every record is checked: an
   * end user in the list fails the call (ZendeskFilterIgnoredError) instead of being taken for a seat holder.
   */
  async seatHoldersPage(afterCursor: string | null): Promise<SeatHoldersPage> {
    const query: Record<string, QueryValue> = { 'role[]': ['agent', 'admin'], 'page[size]': 100 };
    if (afterCursor !== null) query['page[after]'] = afterCursor;
    return this.send('GET', '/api/v2/users.json', query, undefined, true, (body, status, headers) => {
      const page = parseBody(usersListPageSchema, body, status, 'GET /api/v2/users');
      const { records, skipped, anomalies } = readUsers(page.users);
      // An end user in the list, or Zendesk saying it ignored the role filter, means the filter did not
      // hold. An undocumented or absent role is kept as unknown (records.ts), like anywhere else.
      const warning = headers.get('x-zendesk-api-warn');
      if (records.some((u) => u.role === 'end-user') || /unpermitted_keys:\s*\[[^\]]*"role/.test(warning ?? '')) {
        throw new ZendeskFilterIgnoredError('list of agents and admins', warning);
      }
      return { users: records, skipped, anomalies, afterCursor: page.afterCursor, hasMore: page.hasMore };
    });
  }

  /** `GET /api/v2/users/count`: about how many users the account has (an estimate Zendesk refreshes now and then). */
  async usersCount(): Promise<number> {
    return (await this.get('/api/v2/users/count.json', {}, usersCountSchema)).count.value;
  }

  /** `GET /api/v2/users/show_many?ids=…&include_deleted=true` (at most 100 ids): the users Zendesk still knows. */
  async showManyUsers(ids: number[]): Promise<{ users: ZendeskUserRecord[]; skipped: SkippedRecord[]; anomalies: RecordAnomaly[] }> {
    if (ids.length > 100) throw new Error('show_many takes at most 100 ids');
    const page = await this.get('/api/v2/users/show_many.json', { ids: ids.join(','), include_deleted: true }, showManyUsersSchema);
    const { records, skipped, anomalies } = readUsers(page.users);
    return { users: records, skipped, anomalies };
  }

  /**
   * `GET /api/v2/users/{id}/entitlements/full`: the user's roles in other Zendesk products (scope `read`).
   * A 404 (the user is gone) is ZendeskRequestError; a 403 (the plan or grant does not allow it) is
   * ZendeskAuthError('forbidden'), which the caller treats as "entitlements unavailable", not a lost grant.
   */
  async userEntitlements(userId: number): Promise<EntitlementsResponse> {
    return this.get(`/api/v2/users/${userId}/entitlements/full.json`, {}, entitlementsResponseSchema);
  }

  /** `GET /api/v2/users/{id}`: one user as it is now (a 404 is ZendeskRequestError, status 404). */
  async showUser(userId: number): Promise<SeatUserRecord> {
    return (await this.get(`/api/v2/users/${userId}.json`, {}, seatUserResponseSchema)).user;
  }

  /**
   * `PUT /api/v2/users/{id}` with the seat fields (needs the `write` scope): answers the user as Zendesk
   * stored it. Resending the same PUT after a lost answer leaves the same record, so the retry loop may
   * repeat it; callers re-read the user before deciding to send one at all.
   */
  async updateUser(userId: number, user: { role?: string; custom_role_id?: number | null; default_group_id?: number | null }): Promise<SeatUserRecord> {
    const path = `/api/v2/users/${userId}.json`;
    return this.send('PUT', path, {}, undefined, true, (body, status) => parseBody(seatUserResponseSchema, body, status, `PUT ${path}`).user, { user });
  }

  /** `GET /api/v2/custom_roles`: the id of the account's light-agent role (role_type 1), or null when it has none. */
  async lightAgentRoleId(): Promise<number | null> {
    const page = await this.get('/api/v2/custom_roles.json', {}, customRolesSchema);
    return page.custom_roles.find((r) => r.role_type === 1 || r.configuration?.light_agent === true)?.id ?? null;
  }

  /**
   * `GET /api/v2/users/{id}/group_memberships`, every page (offset, 100 a page): the user's memberships.
   * End users have none; a 404 (the user is gone) is ZendeskRequestError.
   */
  async listUserGroupMemberships(userId: number): Promise<GroupMembershipRecord[]> {
    const out: GroupMembershipRecord[] = [];
    // An agent is in at most a few hundred groups; a next_page beyond this is a loop, not data.
    for (let page = 1; page <= MAX_MEMBERSHIP_PAGES; page++) {
      const body = await this.get(`/api/v2/users/${userId}/group_memberships.json`, { page, per_page: 100 }, groupMembershipsPageSchema);
      out.push(...body.group_memberships);
      if (body.next_page === null || body.group_memberships.length === 0) return out;
    }
    throw new ZendeskBadResponseError(`GET /api/v2/users/{id}/group_memberships: more than ${MAX_MEMBERSHIP_PAGES} pages`);
  }

  /**
   * `POST /api/v2/group_memberships` (needs `write`): adds the agent to the group. Zendesk answers 422 for an
   * end user and for an existing membership alike, so a caller that retries re-reads the memberships to tell.
   */
  async createGroupMembership(userId: number, groupId: number): Promise<GroupMembershipRecord> {
    const path = '/api/v2/group_memberships.json';
    return this.send(
      'POST',
      path,
      {},
      undefined,
      true,
      (body, status) => parseBody(groupMembershipResponseSchema, body, status, `POST ${path}`).group_membership,
      { group_membership: { user_id: userId, group_id: groupId } },
    );
  }

  /**
   * Revokes this integration's grant at Zendesk (GET the current token's id, DELETE it by id), with a fresh
   * access token (refreshed first if needed, so an expired access token does not hide a live grant). Says what
   * Zendesk did (RevokeResult): a grant Zendesk already refuses is `already_invalid`, a 403 is `refused` (the
   * grant is still live), and only a successful DELETE is `revoked`. Undefined when no tokens are stored.
   * Stored credentials are left for the caller to delete; Zendesk being unreachable is thrown.
   */
  async revokeAccess(): Promise<RevokeResult | undefined> {
    const stored = await loadCredentials(this.deps.db, this.deps.box, this.deps.integrationId);
    if (!stored) return undefined;
    try {
      return await revokeToken({
        baseUrl: this.baseUrl,
        accessToken: stored.accessToken,
        request: ({ method, path }) => this.send(method === 'DELETE' ? 'DELETE' : 'GET', path, {}, undefined, true),
      });
    } catch (err) {
      // The refresh before the lookup found the grant dead.
      if (err instanceof ZendeskAuthError && (err.kind === 'invalid_grant' || err.kind === 'invalid_token')) return { outcome: 'already_invalid' };
      throw err;
    }
  }

  private async get<S extends z.ZodType>(path: string, query: Record<string, QueryValue>, schema: S): Promise<z.output<S>> {
    return this.send('GET', path, query, undefined, true, (body, status) => parseBody(schema, body, status, `GET ${path}`));
  }

  /**
   * The retry loop. `fixedToken` sends with that token and no refresh (revocation); otherwise the token
   * provider's token is used and, after a 401, recovered as Unauthorized401s decides. `parse` runs inside the
   * loop so a malformed body is retried like a 5xx.
   */
  private async send<T = unknown>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    query: Record<string, QueryValue>,
    fixedToken: string | undefined,
    refreshOn401: boolean,
    parse: (body: unknown, status: number, headers: Headers) => T = (body) => body as T,
    body?: unknown,
  ): Promise<T> {
    let attempt = 0;
    let rateLimitRetries = 0;
    const unauthorized = new Unauthorized401s(this.tokens);
    let rejected: { token: string; sentAtMs: number } | undefined;
    for (;;) {
      let token: string | undefined = fixedToken;
      let sentAtMs = 0;
      let phase = 'token' as 'token' | 'request';
      try {
        if (rejected !== undefined) {
          // After a 401: the token to retry with (someone else's fresh one, or a refresh, serialized across processes).
          await unauthorized.recover(rejected.token, rejected.sentAtMs);
          rejected = undefined;
        }
        return await this.limiter.withPermit(path, this.deps.onWait, async (permit) => {
          token = token ?? (await this.tokens.getAccessToken());
          // Taking the token may have waited (a database read, a refresh), and a 429 that another stream
          // received meanwhile must still hold this request back. After such a wait the token is taken again
          // (short-lived tokens expire while a request waits for its bucket).
          while (await permit.waitOutBlocks(this.deps.onWait)) {
            if (fixedToken === undefined) token = await this.tokens.getAccessToken();
          }
          phase = 'request';
          sentAtMs = Date.now();
          const response = await zendeskRequest({
            signal: this.deps.signal,
            baseUrl: this.baseUrl,
            method,
            path,
            query,
            body,
            accessToken: token,
            timeoutMs: this.timeoutMs,
            observer: this.observer,
            subdomain: this.subdomain,
            onResponse: async (status, headers) => {
              await permit.observe(status, headers);
            },
          });
          return parse(response.body, response.status, response.headers);
        });
      } catch (err) {
        if (err instanceof ZendeskAuthError && err.kind === 'invalid_token' && refreshOn401 && phase === 'request' && token !== undefined) {
          rejected = { token, sentAtMs };
          continue;
        }
        if (phase === 'token' && (err instanceof ZendeskRateLimitedError || err instanceof ZendeskTransientError) && err.status !== undefined) {
          // The token endpoint (a refresh) failed transiently; it is not paced by the limiter, so wait here.
          attempt++;
          if (attempt >= this.maxAttempts) throw err;
          await this.pause(err.retryAfterMs !== undefined ? err.retryAfterMs + 50 : this.backoffMs(attempt));
          continue;
        }
        if (err instanceof ZendeskRateLimitedError || (err instanceof ZendeskTransientError && err.retryAfterMs !== undefined)) {
          // The limiter has recorded the block (a 429's bucket, or a 503's buckets); the next gate waits it out,
          // inline when short, or throws ZendeskRateLimitedError for Temporal to retry later.
          if (err.status === undefined) throw err; // raised by the gate itself: the wait is too long for inline
          rateLimitRetries++;
          if (rateLimitRetries > this.maxRateLimitRetries) throw err;
          continue;
        }
        if (err instanceof ZendeskTransientError || err instanceof ZendeskBadResponseError) {
          attempt++;
          if (attempt >= this.maxAttempts) throw err;
          await this.pause(this.backoffMs(attempt));
          continue;
        }
        throw err;
      }
    }
  }

  /** Sleeps `ms`, calling `onWait` first and then every WAIT_TICK_MS (an activity heartbeats meanwhile). */
  private pause(ms: number): Promise<void> {
    return waitTicking(ms, WAIT_TICK_MS, this.deps.onWait, this.deps.signal);
  }

  private backoffMs(attempt: number): number {
    const base = this.backoffBaseMs * 2 ** (attempt - 1);
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }
}
