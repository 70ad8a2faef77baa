import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox, WorkspaceOptions } from '../../src/sandbox';
import type { ZendeskClient } from '../../src/zendesk/client';
import { ZendeskAuthError } from '../../src/zendesk/errors';
import { testDb } from '../helpers/db';
import { connectWorkspace, makeClient, startTestSandbox } from './helpers';
import { watchAccessTokens } from './tokenWatch';

/**
 * Issue 12 §3, the 401 race: without `expires_in`, stream A refreshes on a 401 (which revokes the access token
 * stream B holds), B's request waiting in the rate limiter then gets a 401, B takes A's token, waits again, A
 * rotates again, and B's second 401 used to end the walk as "refreshing did not help" although the grant was
 * fine. Here: two clients (two token providers, as the sync's two streams are), short tokens, token responses
 * without `expires_in`, and one request per 3-second window on each stream's bucket.
 *
 * - JWT access tokens (what enforced-expiry clients get): 2-second tokens, so every wait outlives the token;
 *   the expiry is known from `exp`, so no expired token is ever sent.
 * - Opaque tokens (nothing says when they expire): 4-second tokens, which expire every other request or so;
 *   401s are how the client finds out, and none of them may cost the grant. (A token that nothing dates and
 *   that dies during every single wait cannot be used at all: each 401 costs the bucket's only request.)
 */

const WINDOW_MS = 3_000;
let sandbox: Sandbox;
before(async () => {
  sandbox = await startTestSandbox({ rateLimitWindowMs: WINDOW_MS });
});
after(() => sandbox.close());

async function walkUsers(client: ZendeskClient, perPage: number): Promise<number[]> {
  let page = await client.incrementalUsersPage({ startTime: 0 }, perPage);
  const ids = page.users.map((u) => u.id);
  while (!page.end_of_stream) {
    page = await client.incrementalUsersPage({ cursor: page.after_cursor! }, perPage);
    ids.push(...page.users.map((u) => u.id));
  }
  return ids;
}

async function walkEvents(client: ZendeskClient, perPage: number): Promise<Set<number>> {
  const ids = new Set<number>();
  let start = 0;
  for (;;) {
    const page = await client.ticketEventsPage(start, perPage);
    for (const e of page.ticket_events) ids.add(e.id);
    if (page.end_of_stream) return ids;
    start = page.end_time;
  }
}

const tight = (oauth: WorkspaceOptions['oauth'], accessTokenTtlSeconds: number): Partial<WorkspaceOptions> => ({
  users: 250,
  ticketEvents: 250,
  accessTokenTtlSeconds,
  usersCursorLimit: 1,
  incrementalLimit: 1,
  oauth,
});

async function twoStreams(prefix: string, oauth: WorkspaceOptions['oauth'], accessTokenTtlSeconds: number) {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, prefix, tight(oauth, accessTokenTtlSeconds));
  const watch = watchAccessTokens(c.ws);
  const users = makeClient(db, sandbox, c);
  const events = makeClient(db, sandbox, c);
  const [userIds, eventIds] = await Promise.all([walkUsers(users, 50), walkEvents(events, 50)]);
  return { c, watch, userIds, eventIds };
}

test("opaque tokens, no expires_in: 401s from expiry and from the other stream's rotations never cost the grant", { timeout: 90_000 }, async () => {
  const { c, watch, userIds, eventIds } = await twoStreams('race-opaque', { expiresIn: 'never', accessTokenFormat: 'opaque' }, 4);
  assert.equal(new Set(userIds).size, 250);
  assert.equal(eventIds.size, 250);
  const stats = c.ws.stats();
  assert.ok(stats.refreshes >= 3, `only ${stats.refreshes} refreshes`);
  assert.equal(c.ws.grants()[0]!.revoked, false);
  // Nothing tells the client when these tokens expire: 401s are how it finds out, and they are retried.
  assert.ok(watch.expired >= 2, JSON.stringify(watch));
});

test('JWT tokens without expires_in: the expiry comes from exp, no request carries an expired token', { timeout: 90_000 }, async () => {
  const { c, watch, userIds, eventIds } = await twoStreams('race-jwt', { expiresIn: 'never', accessTokenFormat: 'jwt' }, 2);
  assert.equal(new Set(userIds).size, 250);
  assert.equal(eventIds.size, 250);
  const stats = c.ws.stats();
  assert.ok(stats.refreshes >= 3, `only ${stats.refreshes} refreshes`);
  assert.equal(watch.expired, 0, `expired tokens presented: ${JSON.stringify(watch)}`);
  assert.equal(c.ws.grants()[0]!.revoked, false);
});

test('the race step by step: a 401 for a token someone else rotated away, twice in one call, is retried with theirs', async () => {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, 'race-steps', { rateLimits: false, oauth: { expiresIn: 'never', accessTokenFormat: 'opaque' } });
  const a = makeClient(db, sandbox, c);
  let rotations = 0;
  // B's first 401 holds its retry back for a moment (a rate-limit wait), and A rotates the pair meanwhile.
  const b = makeClient(db, sandbox, c, {
    observer: { onRequest: (info) => void (info.status === 401 && b.limiter.block(['account'], 300)) },
    onWait: async () => {
      if (rotations === 0) {
        rotations++;
        await a.tokens.forceRefresh(await a.tokens.getAccessToken());
      }
    },
  });
  await Promise.all([a.getMe(), b.getMe()]); // both hold T1
  const t1 = await a.tokens.getAccessToken();
  await a.tokens.forceRefresh(t1); // A rotates: T1 is dead, B still holds it
  const page = await b.incrementalUsersPage({ startTime: 0 }); // B: 401 (T1) → T2 → waits → A rotates → 401 (T2) → T3
  assert.equal(page.users.length, 20);
  assert.equal(rotations, 1);
  assert.equal(c.ws.stats().refreshes, 2, 'only A refreshed');
  assert.equal(c.ws.stats().byStatus['401'], 2);
  assert.equal(b.tokens.refreshes, 0);
});

test('a 401 right after our own refresh is a lost grant: ZendeskAuthError(invalid_token), one refresh', async () => {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, 'race-lost', { rateLimits: false });
  const client = makeClient(db, sandbox, c);
  await client.getMe();
  // A suspended consenting user: the sandbox still refreshes the grant, but refuses every token of it.
  c.ws.suspendUser(c.ws.ownerId);
  await assert.rejects(client.incrementalUsersPage({ startTime: 0 }), (err: unknown) => {
    assert.ok(err instanceof ZendeskAuthError && err.kind === 'invalid_token', String(err));
    return true;
  });
  assert.equal(c.ws.stats().refreshes, 1);
  assert.equal(c.ws.stats().byStatus['401'], 2);
});
