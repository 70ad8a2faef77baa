import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox, WorkspaceOptions } from '../../src/sandbox';
import type { ZendeskClient } from '../../src/zendesk/client';
import { testDb } from '../helpers/db';
import { connectWorkspace, makeClient, startTestSandbox } from './helpers';
import { watchAccessTokens } from './tokenWatch';

/**
 * Issue 12 §3, the 401 race: without `expires_in`, stream A refreshes on a 401 (which revokes the access token
 * stream B holds), B's request waiting in the rate limiter then gets a 401, B takes A's token, waits again, A
 * rotates again, and B's second 401 used to end the walk as "refreshing did not help" although the grant was
 * fine. Here: two clients (two token providers, as the sync's two streams are), 2-second tokens, token
 * responses without `expires_in`, and rate-limit windows of 3 s, so every wait outlives the token.
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

const tight = (oauth: WorkspaceOptions['oauth']): Partial<WorkspaceOptions> => ({
  users: 250,
  ticketEvents: 250,
  accessTokenTtlSeconds: 2,
  usersCursorLimit: 1,
  incrementalLimit: 1,
  oauth,
});

async function twoStreams(prefix: string, oauth: WorkspaceOptions['oauth']) {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, prefix, tight(oauth));
  const watch = watchAccessTokens(c.ws);
  const users = makeClient(db, sandbox, c);
  const events = makeClient(db, sandbox, c);
  const [userIds, eventIds] = await Promise.all([walkUsers(users, 50), walkEvents(events, 50)]);
  return { c, watch, userIds, eventIds };
}

test('opaque tokens, no expires_in, waits longer than the token: two streams keep the grant, data exact', { timeout: 90_000 }, async () => {
  const { c, watch, userIds, eventIds } = await twoStreams('race-opaque', { expiresIn: 'never', accessTokenFormat: 'opaque' });
  assert.equal(new Set(userIds).size, 250);
  assert.equal(eventIds.size, 250);
  const stats = c.ws.stats();
  assert.ok(stats.refreshes >= 3, `only ${stats.refreshes} refreshes`);
  assert.equal(c.ws.grants()[0].revoked, false);
  // Nothing tells the client when these tokens expire: 401s are how it finds out, and they are retried.
  assert.ok(watch.expired + watch.rotatedAway >= 1, JSON.stringify(watch));
});

test('JWT tokens without expires_in: the expiry comes from exp, no request carries an expired token', { timeout: 90_000 }, async () => {
  const { c, watch, userIds, eventIds } = await twoStreams('race-jwt', { expiresIn: 'never', accessTokenFormat: 'jwt' });
  assert.equal(new Set(userIds).size, 250);
  assert.equal(eventIds.size, 250);
  const stats = c.ws.stats();
  assert.ok(stats.refreshes >= 3, `only ${stats.refreshes} refreshes`);
  assert.equal(watch.expired, 0, `expired tokens presented: ${JSON.stringify(watch)}`);
  assert.equal(c.ws.grants()[0].revoked, false);
});
