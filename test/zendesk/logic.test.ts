import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ZendeskAuthError,
  ZendeskBadResponseError,
  ZendeskNotFoundError,
  ZendeskRateLimitedError,
  ZendeskRequestError,
  ZendeskTransientError,
} from '../../src/zendesk/errors';
import { bucketsForPath, buildRequestUrl, endpointBucket, mapErrorResponse, parseBody, parseRetryAfterMs } from '../../src/zendesk/http';
import { buildAuthorizeUrl, tokenSetFromResponse } from '../../src/zendesk/oauth';
import { exhaustedBuckets, parseBucketHeader, parseRateLimitHeaders } from '../../src/zendesk/rateLimit/headers';
import { meResponseSchema, ticketEventsPageSchema, tokenResponseSchema, usersCursorPageSchema, zendeskUserSchema } from '../../src/zendesk/schemas';

const h = (init: Record<string, string>) => new Headers(init);

test('Retry-After: seconds, decimals, HTTP dates, garbage', () => {
  assert.equal(parseRetryAfterMs('7'), 7000);
  assert.equal(parseRetryAfterMs(' 0 '), 0);
  assert.equal(parseRetryAfterMs('1.5'), 1500);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfterMs('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', now), 0);
  assert.equal(parseRetryAfterMs(null), undefined);
  assert.equal(parseRetryAfterMs(''), undefined);
  assert.equal(parseRetryAfterMs('soon'), undefined);
  assert.equal(parseRetryAfterMs('-5'), undefined);
});

test('buckets of each endpoint', () => {
  assert.equal(endpointBucket('/api/v2/users/me.json'), 'account');
  assert.equal(endpointBucket('/api/v2/incremental/users/cursor.json'), 'users-cursor');
  assert.equal(endpointBucket('/api/v2/incremental/users/cursor'), 'users-cursor');
  assert.equal(endpointBucket('/api/v2/incremental/ticket_events.json'), 'incremental');
  assert.equal(endpointBucket('/api/v2/incremental/users.json'), 'incremental');
  assert.equal(endpointBucket('/oauth/tokens'), 'oauth');
  assert.deepEqual(bucketsForPath('/api/v2/users/me.json'), ['account']);
  assert.deepEqual(bucketsForPath('/api/v2/incremental/ticket_events.json'), ['account', 'incremental']);
  assert.deepEqual(bucketsForPath('/api/v2/incremental/users/cursor.json'), ['account', 'users-cursor']);
  assert.deepEqual(bucketsForPath('/oauth/tokens'), []);
});

test('rate-limit headers of every dialect', () => {
  const readings = parseRateLimitHeaders(
    h({
      'X-Rate-Limit': '700',
      'X-Rate-Limit-Remaining': '699',
      'ratelimit-limit': '700',
      'ratelimit-remaining': '698',
      'ratelimit-reset': '42',
      'Zendesk-RateLimit-incremental-exports-cursor': 'total=20; remaining=0; resets=17',
    }),
  );
  assert.deepEqual(readings.account, { remaining: 698, limit: 700, resetMs: 42_000 });
  assert.deepEqual(readings['users-cursor'], { remaining: 0, limit: 20, resetMs: 17_000 });
  assert.equal(readings.incremental, undefined);

  const inc = parseRateLimitHeaders(h({ 'zendesk-ratelimit-incremental-exports': 'total=10; remaining=3; resets=5' }));
  assert.deepEqual(inc.incremental, { remaining: 3, limit: 10, resetMs: 5000 });
  assert.equal(inc.account, undefined);

  // Only X-Rate-Limit: no reset known.
  assert.deepEqual(parseRateLimitHeaders(h({ 'X-Rate-Limit': '200', 'X-Rate-Limit-Remaining': '0' })).account, {
    remaining: 0,
    limit: 200,
    resetMs: undefined,
  });
  // Unknown buckets are ignored; junk is ignored.
  assert.deepEqual(parseRateLimitHeaders(h({ 'zendesk-ratelimit-tickets-index': 'total=100; remaining=0; resets=3', 'x-rate-limit-remaining': 'lots' })), {});
  assert.deepEqual(parseBucketHeader('total=5;remaining=2;resets=1'), { total: 5, remaining: 2, resets: 1 });
  assert.deepEqual(parseBucketHeader('garbage'), {});
});

test('a 429 blocks the bucket whose remaining is 0, or both when unclear', () => {
  const cursorOut = parseRateLimitHeaders(
    h({ 'ratelimit-remaining': '500', 'ratelimit-reset': '30', 'Zendesk-RateLimit-incremental-exports-cursor': 'total=20; remaining=0; resets=30' }),
  );
  assert.deepEqual(exhaustedBuckets(['account', 'users-cursor'], cursorOut), ['users-cursor']);
  const accountOut = parseRateLimitHeaders(h({ 'X-Rate-Limit-Remaining': '0', 'zendesk-ratelimit-incremental-exports': 'total=10; remaining=4; resets=30' }));
  assert.deepEqual(exhaustedBuckets(['account', 'incremental'], accountOut), ['account']);
  assert.deepEqual(exhaustedBuckets(['account', 'incremental'], {}), ['account', 'incremental']);
  const roomLeft = parseRateLimitHeaders(h({ 'X-Rate-Limit-Remaining': '10', 'zendesk-ratelimit-incremental-exports': 'total=10; remaining=4; resets=30' }));
  assert.deepEqual(exhaustedBuckets(['account', 'incremental'], roomLeft), ['account', 'incremental']);
  assert.deepEqual(exhaustedBuckets(['account'], {}), ['account']);
});

test('request URLs stay inside the workspace base URL', () => {
  assert.equal(buildRequestUrl('https://acme.zendesk.com', '/api/v2/users/me.json').toString(), 'https://acme.zendesk.com/api/v2/users/me.json');
  assert.equal(
    buildRequestUrl('http://127.0.0.1:4010/acme', '/api/v2/incremental/users/cursor.json', { cursor: 'a b&c=d', per_page: 1000, skip: undefined }).toString(),
    'http://127.0.0.1:4010/acme/api/v2/incremental/users/cursor.json?cursor=a+b%26c%3Dd&per_page=1000',
  );
  for (const path of [
    'https://evil.io/api/v2/users',
    '//evil.io/api/v2/users',
    'api/v2/users',
    '/api/v2/../../other/api',
    '/../other',
    '/api/v2/users?x=https://evil.io',
    '/api/v2/users#x',
    '/@evil.io',
    '/api\\v2',
    '/api/v2/%2e%2e/x',
    '',
  ]) {
    assert.throws(() => buildRequestUrl('http://127.0.0.1:4010/acme', path), /Refusing/, path);
  }
});

test('statuses map to error classes', () => {
  const json = h({ 'content-type': 'application/json; charset=utf-8' });
  const ctx = { bucket: 'users-cursor' as const, subdomain: 'acme' };
  const e401 = mapErrorResponse(401, json, '{"error":"invalid_token","error_description":"The access token provided is expired"}', ctx);
  assert.ok(e401 instanceof ZendeskAuthError && e401.kind === 'invalid_token' && !e401.retryable);
  const e403 = mapErrorResponse(403, json, '{"error":"Forbidden"}', ctx);
  assert.ok(e403 instanceof ZendeskAuthError && e403.kind === 'forbidden');
  const grant = mapErrorResponse(400, json, '{"error":"invalid_grant","error_description":"x"}', ctx);
  assert.ok(grant instanceof ZendeskAuthError && grant.kind === 'invalid_grant');
  const grant401 = mapErrorResponse(401, json, '{"error":"invalid_grant"}', ctx);
  assert.ok(grant401 instanceof ZendeskAuthError && grant401.kind === 'invalid_grant');
  const client = mapErrorResponse(401, json, '{"error":"invalid_client"}', ctx);
  assert.ok(client instanceof ZendeskAuthError && client.kind === 'invalid_client');
  const limited = mapErrorResponse(429, h({ 'retry-after': '3' }), '', ctx);
  assert.ok(limited instanceof ZendeskRateLimitedError && limited.retryAfterMs === 3000 && limited.bucket === 'users-cursor' && limited.retryable);
  const limitedDefault = mapErrorResponse(429, h({}), 'slow down', ctx);
  assert.ok(limitedDefault instanceof ZendeskRateLimitedError && limitedDefault.retryAfterMs === 10_000);
  const busy = mapErrorResponse(503, h({ 'retry-after': '2' }), '', ctx);
  assert.ok(busy instanceof ZendeskTransientError && busy.retryAfterMs === 2000 && busy.status === 503 && busy.retryable);
  const maintenance = mapErrorResponse(503, h({}), '', ctx);
  assert.ok(maintenance instanceof ZendeskTransientError && maintenance.retryAfterMs === undefined);
  assert.ok(mapErrorResponse(500, json, '{}', ctx) instanceof ZendeskTransientError);
  assert.ok(mapErrorResponse(502, h({ 'content-type': 'text/html' }), '<html>', ctx) instanceof ZendeskTransientError);
  const unknown = mapErrorResponse(404, h({ 'content-type': 'text/plain' }), 'No help desk at acme.zendesk.com', ctx);
  assert.ok(unknown instanceof ZendeskNotFoundError && !unknown.retryable && /acme/.test(unknown.actionableMessage));
  const missingRecord = mapErrorResponse(404, json, '{"error":"RecordNotFound","description":"Not found"}', ctx);
  assert.ok(missingRecord instanceof ZendeskRequestError && missingRecord.code === 'RecordNotFound' && !missingRecord.retryable);
  assert.ok(mapErrorResponse(302, h({ location: 'https://www.zendesk.com/closed' }), '', ctx) instanceof ZendeskNotFoundError);
  const bad = mapErrorResponse(400, h({ 'content-type': 'text/plain' }), 'Bad request', ctx);
  assert.ok(bad instanceof ZendeskRequestError && bad.status === 400);
});

test('error messages never carry response bodies or tokens', () => {
  const secret = 'SECRET-abcdef0123456789';
  const json = h({ 'content-type': 'application/json' });
  for (const status of [400, 401, 403, 404, 409, 422, 429, 500, 503]) {
    const err = mapErrorResponse(status, json, JSON.stringify({ error: secret, error_description: secret, token: secret }), { bucket: 'account' });
    assert.ok(!err.message.includes(secret), `${status}: ${err.message}`);
    assert.ok(!String(err.stack).includes(secret));
    assert.ok(!JSON.stringify(err).includes(secret));
  }
  const parseErr = (() => {
    try {
      parseBody(tokenResponseSchema, { access_token: 42, refresh_token: secret, token_type: 'bearer', scope: 'read' });
    } catch (err) {
      return err as Error;
    }
    throw new Error('expected a parse error');
  })();
  assert.ok(parseErr instanceof ZendeskBadResponseError && parseErr.retryable);
  assert.ok(!parseErr.message.includes(secret) && !JSON.stringify(parseErr).includes(secret));
  assert.match(parseErr.message, /access_token/);
  const auth = new ZendeskAuthError('invalid_grant', 400);
  assert.match(auth.actionableMessage, /Reconnect the integration with a Zendesk admin account/);
});

test('authorize URL', () => {
  const url = new URL(
    buildAuthorizeUrl({
      baseUrl: 'http://127.0.0.1:4010/acme',
      clientId: 'zdg-client',
      redirectUri: 'https://app.example/cb?x=1',
      state: 's.t',
      codeChallenge: 'abc_-',
    }),
  );
  assert.equal(url.origin + url.pathname, 'http://127.0.0.1:4010/acme/oauth/authorizations/new');
  assert.equal(url.searchParams.get('response_type'), 'code');
  assert.equal(url.searchParams.get('client_id'), 'zdg-client');
  assert.equal(url.searchParams.get('redirect_uri'), 'https://app.example/cb?x=1');
  assert.equal(url.searchParams.get('scope'), 'read');
  assert.equal(url.searchParams.get('state'), 's.t');
  assert.equal(url.searchParams.get('code_challenge'), 'abc_-');
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  const scoped = new URL(
    buildAuthorizeUrl({
      baseUrl: 'https://acme.zendesk.com',
      clientId: 'c',
      redirectUri: 'r',
      state: 's',
      codeChallenge: 'c',
      scope: 'users:read tickets:read',
    }),
  );
  assert.equal(scoped.searchParams.get('scope'), 'users:read tickets:read');
});

test('token responses: full, minimal, null lifetimes, odd types (details in tokenExpiry.test.ts)', () => {
  const issued = Date.parse('2026-01-01T00:00:00Z');
  const full = tokenSetFromResponse(
    tokenResponseSchema.parse({
      access_token: 'a',
      token_type: 'bearer',
      scope: 'read',
      refresh_token: 'r',
      expires_in: 1800,
      refresh_token_expires_in: 604800,
      extra: 1,
    }),
    issued,
  );
  assert.deepEqual(full, {
    accessToken: 'a',
    refreshToken: 'r',
    accessExpiresAt: new Date(issued + 1_800_000),
    refreshExpiresAt: new Date(issued + 604_800_000),
    scope: 'read',
  });
  // No expires_in never means "does not expire": an opaque token is assumed to live 30 minutes.
  const minimal = tokenSetFromResponse(tokenResponseSchema.parse({ access_token: 'a', token_type: 'Bearer', scope: 'read' }), issued);
  assert.deepEqual(minimal, { accessToken: 'a', refreshToken: null, accessExpiresAt: new Date(issued + 1_800_000), refreshExpiresAt: null, scope: 'read' });
  const nulls = tokenResponseSchema.parse({
    access_token: 'a',
    token_type: 'bearer',
    scope: 'read',
    refresh_token: null,
    expires_in: null,
    refresh_token_expires_in: null,
  });
  assert.equal(nulls.expires_in, null);
  // A rotated pair is never refused for an optional field: only an access token is required.
  assert.equal(tokenResponseSchema.safeParse({ access_token: 'a', token_type: 'mac', scope: 'read' }).success, true);
  assert.equal(tokenResponseSchema.safeParse({ access_token: '', token_type: 'bearer', scope: 'read' }).success, false);
});

const USER = {
  id: 926256957613,
  url: 'https://acme.zendesk.com/api/v2/users/926256957613.json',
  name: 'O\'Brien, "Jr"',
  email: 'ob@example.com',
  created_at: '2011-05-05T10:38:52Z',
  updated_at: '2026-05-05T10:38:52.123Z',
  last_login_at: null,
  role: 'agent',
  role_type: 1,
  report_csv: false,
  chat_only: false,
  moderator: false,
  restricted_agent: true,
  shared: false,
  shared_agent: false,
  suspended: false,
  ticket_restriction: 'groups',
  two_factor_auth_enabled: null,
  verified: true,
  active: true,
  user_fields: { anything: 1 },
  tags: ['x'],
};

test('user schema: every contract field, extras accepted; only the id is required, anything else odd reads as unknown', () => {
  const user = zendeskUserSchema.parse(USER);
  assert.equal(user.id, 926256957613);
  assert.equal(user.role_type, 1);
  assert.equal(user.ticket_restriction, 'groups');
  assert.equal(user.two_factor_auth_enabled, null);
  assert.equal((user as Record<string, unknown>).tags, undefined, 'extras are dropped');
  const endUser = zendeskUserSchema.parse({ ...USER, role: 'end-user', role_type: null, email: null, ticket_restriction: null });
  assert.equal(endUser.role_type, null);
  assert.equal(endUser.email, null);
  for (const [field, value] of [
    ['id', '926256957613'],
    ['id', 1.5],
    ['id', 2 ** 60],
    ['id', undefined],
  ] as const) {
    assert.equal(zendeskUserSchema.safeParse({ ...USER, [field]: value }).success, false, `${field}=${String(value)}`);
  }
  // Undocumented enum values are kept as sent; wrong types and absent fields are unknown (null), never false.
  for (const [field, value, expected] of [
    ['role', 'owner', 'owner'],
    ['role_type', 6, 6],
    ['role_type', -1, -1],
    ['ticket_restriction', 'everything', 'everything'],
    ['suspended', 'false', null],
    ['active', undefined, null],
    ['chat_only', undefined, null],
    ['created_at', 'yesterday', null],
    ['name', null, null],
  ] as const) {
    const parsed = zendeskUserSchema.parse({ ...USER, [field]: value }) as Record<string, unknown>;
    assert.equal(parsed[field], expected, `${field}=${String(value)}`);
  }
});

test('page schemas', () => {
  const page = usersCursorPageSchema.parse({
    users: [USER],
    after_cursor: 'abc',
    after_url: 'https://evil.io/x',
    before_cursor: null,
    before_url: null,
    end_of_stream: false,
  });
  assert.equal(page.after_cursor, 'abc');
  assert.equal(page.users.length, 1);
  assert.equal(usersCursorPageSchema.safeParse({ users: {}, after_cursor: 'a', end_of_stream: false }).success, false);
  assert.equal(usersCursorPageSchema.parse({ users: [], after_cursor: 'a' }).end_of_stream, false, 'no end_of_stream: a next cursor means more');
  assert.equal(usersCursorPageSchema.parse({ users: [], after_cursor: null }).end_of_stream, true);

  const events = ticketEventsPageSchema.parse({
    ticket_events: [
      {
        id: 1,
        ticket_id: 2,
        timestamp: 1700000000,
        updater_id: -1,
        created_at: '2023-11-14T22:13:20Z',
        via: 'Web form',
        event_type: 'Audit',
        child_events: [{ id: 9, event_type: 'Comment', author_id: 5, public: true, body: 'hi' }],
      },
    ],
    end_time: 1700000000,
    next_page: 'https://evil.io/next',
    count: 1,
    end_of_stream: true,
  });
  assert.equal(events.ticket_events.length, 1, 'entries are read one by one later (records.ts)');
  assert.equal(ticketEventsPageSchema.safeParse({ ticket_events: [], end_time: '1', count: 0, end_of_stream: true }).success, false);
  assert.equal(ticketEventsPageSchema.safeParse({ ticket_events: {}, end_time: 1, end_of_stream: true }).success, false);

  assert.equal(meResponseSchema.parse({ user: { id: null, name: 'Anonymous user', role: 'end-user' }, authenticity_token: 'x' }).user.id, null);
  assert.equal(meResponseSchema.parse({ user: { ...USER, role: 'admin' } }).user.role, 'admin');
});
