import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KyselyPlugin } from 'kysely';
import { recordRateLimitBlock } from '../../src/db/repositories/rateLimits';
import { RateLimiter, createProcessRateLimits } from '../../src/zendesk/rateLimit/rateLimiter';
import { testDb } from '../helpers/db';

/**
 * Waiters of one process share its readings of the database blocks (SharedBlocks): N requests waiting on
 * a workspace do not each query `zendesk_rate_limits` on every wake-up, yet none goes without a fresh read.
 */

const unique = (p: string) => `${p}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The run's database, counting the queries that read `zendesk_rate_limits`. */
function countingDb() {
  let reads = 0;
  const plugin: KyselyPlugin = {
    transformQuery: ({ node }) => {
      if (node.kind === 'SelectQueryNode' && JSON.stringify(node.from).includes('"zendesk_rate_limits"')) reads++;
      return node;
    },
    transformResult: ({ result }) => Promise.resolve(result),
  };
  return { db: testDb().withPlugin(plugin), reads: () => reads };
}

const incremental = ['account', 'incremental'] as const;

test("20 requests waiting for this process's own request in flight share the reads of the blocks; a block recorded meanwhile still holds them", async () => {
  const { db, reads } = countingDb();
  const ws = unique('waiters');
  const limiter = new RateLimiter({ process: createProcessRateLimits(db), workspace: ws, waitTickMs: 100 });
  // One request left in the window, and it is in flight: the others wait for its response.
  await limiter.observe([...incremental], 200, new Headers({ 'zendesk-ratelimit-incremental-exports': 'total=10; remaining=1; resets=30' }));
  const first = await limiter.enter([...incremental]);
  const before = reads();
  const entered: number[] = [];
  // Each waiter, once in, ends its request at once: the next one follows.
  const waiters = Array.from({ length: 20 }, () => limiter.enter([...incremental]).then((permit) => (entered.push(Date.now()), permit.release())));
  await sleep(600);
  const whileWaiting = reads() - before;
  // Polling every 50 ms each, 20 waiters read 240 times in 600 ms; sharing one reading (250 ms old at most), a handful.
  assert.ok(whileWaiting <= 6, `reads while 20 requests waited 600 ms: ${whileWaiting}`);
  assert.equal(entered.length, 0);

  // Another process receives a 429 meanwhile: no waiter may go before its block ends, cache or not.
  await recordRateLimitBlock(testDb(), ws, ['incremental'], 400);
  // When the block ends is what the database recorded (its clock, at the insert): not 400 ms after the insert
  // returned here, which on a busy machine is a few milliseconds later.
  const block = await testDb()
    .selectFrom('zendesk_rate_limits')
    .select('blocked_until')
    .where('workspace', '=', ws)
    .where('bucket', '=', 'incremental')
    .executeTakeFirstOrThrow();
  const blockEnds = block.blocked_until.getTime();
  first.release();
  await Promise.all(waiters);
  assert.equal(entered.length, 20);
  assert.ok(Math.min(...entered) >= blockEnds, `a waiter went ${blockEnds - Math.min(...entered)} ms before the shared block ended`);
  // Each of the 20 goes right after a fresh read, which the ones going together share.
  assert.ok(reads() - before <= 20 + 10, `reads in all: ${reads() - before}`);
});

test('20 requests waiting out a block another process recorded read it a few times in all, not each', async () => {
  const { db, reads } = countingDb();
  const ws = unique('blocked');
  await recordRateLimitBlock(testDb(), ws, ['incremental'], 500);
  // The block ends when the database recorded (its clock at the insert, + 500 ms), not 500 ms after the insert
  // returned here: on a busy machine that is a few milliseconds later, and a correct wait looked short (497 ms).
  const block = await testDb()
    .selectFrom('zendesk_rate_limits')
    .select('blocked_until')
    .where('workspace', '=', ws)
    .where('bucket', '=', 'incremental')
    .executeTakeFirstOrThrow();
  const blockEnds = block.blocked_until.getTime();
  const limiter = new RateLimiter({ process: createProcessRateLimits(db), workspace: ws });
  const done = await Promise.all(Array.from({ length: 20 }, () => limiter.acquire([...incremental]).then(() => Date.now())));
  assert.ok(Math.min(...done) >= blockEnds, `a request went ${blockEnds - Math.min(...done)} ms before the block ended`);
  // One read on entry (joined by all), one after the block (stale is fine to a waiter), one fresh before going.
  assert.ok(reads() <= 6, `reads by 20 requests: ${reads()}`);
});
