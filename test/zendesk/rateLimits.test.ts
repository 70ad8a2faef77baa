import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createDb } from '../../src/db/database';
import type { Sandbox } from '../../src/sandbox';
import type { ZendeskClient } from '../../src/zendesk/client';
import { ZendeskRateLimitedError } from '../../src/zendesk/errors';
import { testDb } from '../helpers/db';
import { CLIENT, connectWorkspace, makeClient, startTestSandbox } from './helpers';

const WINDOW_MS = 2_000;
let sandbox: Sandbox;
before(async () => {
  sandbox = await startTestSandbox({ rateLimitWindowMs: WINDOW_MS });
});
after(() => sandbox.close());

const NO_EARLY = { account: 0, incremental: 0, usersCursor: 0 };

async function walkUsers(client: ZendeskClient, perPage: number): Promise<{ pages: number; ids: number[] }> {
  let page = await client.incrementalUsersPage({ startTime: 0 }, perPage);
  const ids = page.users.map((u) => u.id);
  let pages = 1;
  while (!page.end_of_stream) {
    page = await client.incrementalUsersPage({ cursor: page.after_cursor! }, perPage);
    ids.push(...page.users.map((u) => u.id));
    pages++;
  }
  return { pages, ids };
}

async function walkEvents(client: ZendeskClient, perPage: number): Promise<{ pages: number; ids: Set<number> }> {
  const ids = new Set<number>();
  let start = 0;
  let pages = 0;
  for (;;) {
    const page = await client.ticketEventsPage(start, perPage);
    pages++;
    for (const e of page.ticket_events) ids.add(e.id);
    if (page.end_of_stream) return { pages, ids };
    start = page.end_time;
  }
}

test('a 429 is waited out exactly (Retry-After) and retried; nothing arrives early', async () => {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, 'r429');
  c.ws.injectFaults([{ kind: '429', path: '/api/v2/incremental/users/cursor', retryAfterSeconds: 1 }]);
  const waits: number[] = [];
  const client = makeClient(db, sandbox, c, { onWait: (ms) => void waits.push(ms) });
  const started = Date.now();
  const page = await client.incrementalUsersPage({ startTime: 0 });
  const elapsed = Date.now() - started;
  assert.equal(page.users.length, 20);
  assert.ok(elapsed >= 1_000 && elapsed < 2_000, `elapsed ${elapsed} ms`);
  assert.deepEqual(client.stats, { requests: 2, rateLimited: 1 });
  assert.ok(waits.length >= 1 && waits[0]! > 900, `onWait: ${waits.join(',')}`);
  const stats = c.ws.stats();
  assert.equal(stats.rateLimited429, 1);
  assert.deepEqual(stats.earlyRequests, NO_EARLY);
  // The block is shared: a brand-new client of the workspace sees it too (here it has passed).
  const blocks = await db.selectFrom('zendesk_rate_limits').selectAll().where('workspace', '=', c.subdomain).execute();
  assert.ok(blocks.length >= 1);
});

test('a Retry-After longer than maxInlineWaitMs throws ZendeskRateLimitedError for Temporal to wait', async () => {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, 'rlong');
  c.ws.injectFaults([{ kind: '429', path: '/api/v2/incremental/ticket_events', retryAfterSeconds: 5 }]);
  const client = makeClient(db, sandbox, c, { limiter: { maxInlineWaitMs: 1_000 } });
  await assert.rejects(client.ticketEventsPage(0), (err: unknown) => {
    assert.ok(err instanceof ZendeskRateLimitedError, String(err));
    assert.ok(err.retryAfterMs > 4_000 && err.retryAfterMs <= 5_100, String(err.retryAfterMs));
    return true;
  });
  // Another client (another activity) of the same workspace does not send either.
  const other = makeClient(createDbForTest(), sandbox, c, { limiter: { maxInlineWaitMs: 1_000 } });
  await assert.rejects(other.ticketEventsPage(0), ZendeskRateLimitedError);
  assert.equal(c.ws.stats().bucketRequests.incremental, 1);
  assert.deepEqual(c.ws.stats().earlyRequests, NO_EARLY);
});

const extraPools: Array<ReturnType<typeof createDb>> = [];
function createDbForTest() {
  const db = createDb(process.env.DATABASE_URL!, 2);
  extraPools.push(db);
  return db;
}
after(async () => {
  await Promise.all(extraPools.map((p) => p.destroy()));
});

test('pacing: a multi-page walk of both streams under short limits gets at most one 429 per bucket', async () => {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, 'pace', {
    users: 1_000,
    ticketEvents: 500,
    usersCursorLimit: 4,
    incrementalLimit: 3,
    accountLimit: 6,
  });
  const client = makeClient(db, sandbox, c);
  const started = Date.now();
  const [users, events] = await Promise.all([walkUsers(client, 100), walkEvents(client, 100)]);
  const elapsed = Date.now() - started;
  assert.equal(new Set(users.ids).size, 1_000);
  assert.equal(events.ids.size, 500);
  const total = users.pages + events.pages;
  const stats = c.ws.stats();
  assert.deepEqual(stats.earlyRequests, NO_EARLY);
  for (const [bucket, n] of Object.entries(stats.rateLimited429ByBucket)) assert.ok(n <= 1, `${bucket}: ${n} 429s`);
  // Theoretical minimum: the account bucket (6 per window) is the bottleneck.
  const windowsNeeded = Math.ceil(total / 6);
  const minimum = (windowsNeeded - 1) * WINDOW_MS;
  assert.ok(elapsed >= minimum - 200, `elapsed ${elapsed} ms < ${minimum} ms: limits were not applied?`);
  assert.ok(elapsed <= minimum + WINDOW_MS + 1_500, `elapsed ${elapsed} ms, minimum ${minimum} ms (${total} requests)`);
});

test('two clients of one workspace walking in parallel never send early, even with injected 429s', async () => {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, 'pair', { users: 600, usersCursorLimit: 5 });
  c.ws.injectFaults([
    { kind: '429', path: '/api/v2/incremental/users/cursor', retryAfterSeconds: 1 },
    { kind: '503', path: '/api/v2/incremental/users/cursor', retryAfterSeconds: 1 },
  ]);
  const a = makeClient(db, sandbox, c);
  const b = makeClient(createDbForTest(), sandbox, c);
  const [wa, wb] = await Promise.all([walkUsers(a, 200), walkUsers(b, 200)]);
  assert.equal(new Set(wa.ids).size, 600);
  assert.equal(new Set(wb.ids).size, 600);
  const stats = c.ws.stats();
  assert.deepEqual(stats.earlyRequests, NO_EARLY);
  assert.ok(stats.rateLimited429ByBucket.usersCursor <= 2, `${stats.rateLimited429ByBucket.usersCursor} 429s (1 injected)`);
});

test('another worker process of the same workspace waits for the blocks this one recorded', async () => {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, 'procs', { users: 1_000, usersCursorLimit: 4 });
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'fixtures', 'walker.ts')], {
    env: {
      ...process.env,
      WALK_TEMPLATE: sandbox.baseUrlTemplate,
      WALK_SUBDOMAIN: c.subdomain,
      WALK_INTEGRATION: c.integrationId,
      WALK_PER_PAGE: '250',
      WALK_CLIENT_ID: CLIENT.clientId,
      WALK_CLIENT_SECRET: CLIENT.clientSecret,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  const mine = await walkUsers(makeClient(db, sandbox, c), 250);
  assert.equal(await exited, 0, err);
  const theirs = JSON.parse(out) as { users: number; requests: number; rateLimited: number };
  assert.equal(new Set(mine.ids).size, 1_000);
  assert.equal(theirs.users, 1_000);
  const stats = c.ws.stats();
  assert.deepEqual(stats.earlyRequests, NO_EARLY);
  assert.ok(stats.rateLimited429ByBucket.usersCursor <= 1, `${stats.rateLimited429ByBucket.usersCursor} 429s`);
});
