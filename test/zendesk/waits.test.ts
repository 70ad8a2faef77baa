import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox';
import { RateLimiter, createProcessRateLimits } from '../../src/zendesk/rateLimit/rateLimiter';
import { testDb } from '../helpers/db';
import { connectWorkspace, makeClient, startTestSandbox } from './helpers';

/**
 * Every wait inside the Zendesk client calls `onWait` at least every few seconds, so a sync chunk keeps
 * heartbeating (its heartbeat timeout is short: a killed worker's chunk is retried elsewhere quickly).
 */

let sandbox: Sandbox;
before(async () => {
  sandbox = await startTestSandbox();
});
after(() => sandbox.close());

const unique = (p: string) => `${p}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** Largest gap between consecutive calls, the start and the end included. */
const largestGap = (started: number, calls: number[], ended: number) =>
  Math.max(...[started, ...calls, ended].slice(1).map((t, i, all) => t - (i === 0 ? started : all[i - 1]!)));

test('a long rate-limit block calls onWait at least every 2 s by default', { timeout: 20_000 }, async () => {
  const limiter = new RateLimiter({ process: createProcessRateLimits(testDb()), workspace: unique('tick') });
  await limiter.block(['incremental'], 4_500);
  const calls: number[] = [];
  const started = Date.now();
  await limiter.acquire(['account', 'incremental'], () => void calls.push(Date.now()));
  const ended = Date.now();
  assert.ok(ended - started >= 4_500, `waited ${ended - started} ms`);
  assert.ok(calls.length >= 3, `onWait calls: ${calls.length}`);
  assert.ok(largestGap(started, calls, ended) <= 2_300, `largest gap ${largestGap(started, calls, ended)} ms`);
});

test("waiting for this process's own requests in flight also calls onWait", async () => {
  const limiter = new RateLimiter({ process: createProcessRateLimits(testDb()), workspace: unique('inflight'), waitTickMs: 100 });
  // One request left in the window, and it is in flight: the next caller waits for its response.
  await limiter.observe(['account', 'incremental'], 200, new Headers({ 'zendesk-ratelimit-incremental-exports': 'total=10; remaining=1; resets=30' }));
  const first = await limiter.enter(['account', 'incremental']);
  const calls: number[] = [];
  let entered = false;
  const second = limiter
    .enter(['account', 'incremental'], () => void calls.push(Date.now()))
    .then((permit) => {
      entered = true;
      return permit;
    });
  await new Promise((r) => setTimeout(r, 450));
  assert.equal(entered, false);
  assert.ok(calls.length >= 2, `onWait calls while waiting for the response: ${calls.length}`);
  first.release();
  (await second).release();
});

test('backoff between retries of a failing request calls onWait', async () => {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, 'backoff');
  c.ws.injectFaults([{ kind: '500', path: '/api/v2/incremental/users/cursor', count: 2 }]);
  const calls: number[] = [];
  const client = makeClient(db, sandbox, c, { backoffBaseMs: 200, onWait: () => void calls.push(Date.now()) });
  const page = await client.incrementalUsersPage({ startTime: 0 });
  assert.equal(page.users.length, 20);
  assert.ok(calls.length >= 2, `onWait during the two backoffs: ${calls.length}`);
});

test('an onWait that throws (a cancelled activity) ends a backoff with its error', async () => {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, 'backoff-cancel');
  c.ws.injectFaults([{ kind: '500', path: '/api/v2/incremental/users/cursor', count: 3 }]);
  const client = makeClient(db, sandbox, c, {
    backoffBaseMs: 5_000,
    onWait: () => {
      throw new Error('cancelled');
    },
  });
  const started = Date.now();
  await assert.rejects(client.incrementalUsersPage({ startTime: 0 }), /cancelled/);
  assert.ok(Date.now() - started < 2_000);
});
