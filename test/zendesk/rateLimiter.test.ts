import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDb } from '../../src/db/database';
import { readRateLimitBlocks, recordRateLimitBlock } from '../../src/db/repositories/rateLimits';
import { ZendeskRateLimitedError } from '../../src/zendesk/errors';
import { RateLimiter, createProcessRateLimits } from '../../src/zendesk/rateLimit/rateLimiter';
import { testDb } from '../helpers/db';

/** This test process's rate-limit state, as a worker process has one. */
const thisProcess = createProcessRateLimits(testDb());

const unique = (p: string) => `${p}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

test('blocks are upserted with GREATEST and read per bucket', async () => {
  const db = testDb();
  const ws = unique('rl');
  await recordRateLimitBlock(db, ws, ['account', 'incremental'], 5_000);
  await recordRateLimitBlock(db, ws, ['incremental'], 1_000); // shorter: keeps the later block
  const blocks = await readRateLimitBlocks(db, ws, ['account', 'incremental', 'users-cursor']);
  assert.ok(blocks.get('incremental')! > 4_000 && blocks.get('incremental')! <= 5_000, String(blocks.get('incremental')));
  assert.ok(blocks.get('account')! > 4_000);
  assert.equal(blocks.has('users-cursor'), false);
  await recordRateLimitBlock(db, ws, ['incremental'], 9_000);
  assert.ok((await readRateLimitBlocks(db, ws, ['incremental'])).get('incremental')! > 8_000);
});

test('a block recorded by one process makes another process wait (separate pools)', async () => {
  const other = createDb(process.env.DATABASE_URL!, 2);
  try {
    const ws = unique('rl2');
    const a = new RateLimiter({ process: thisProcess, workspace: ws });
    await a.block(['users-cursor'], 700);
    // b is another process: its own state, only the database knows
    const otherProcess = createProcessRateLimits(other);
    const b = new RateLimiter({ process: otherProcess, workspace: ws });
    const waits: number[] = [];
    const started = Date.now();
    await b.acquire(['account', 'users-cursor'], (ms) => {
      waits.push(ms);
    });
    const waited = Date.now() - started;
    assert.ok(waited >= 700, `waited ${waited} ms`);
    assert.ok(waited < 1_500, `waited ${waited} ms`);
    assert.ok(waits.length >= 1 && waits[0]! > 500, 'onWait was told how long');
    // Another bucket is not blocked: a limiter of the same process and pool that may not wait at all (any wait
    // would throw ZendeskRateLimitedError) gets through, however long the machine takes to answer.
    await new RateLimiter({ process: otherProcess, workspace: ws, maxInlineWaitMs: 0 }).acquire(['account', 'incremental']);
  } finally {
    await other.destroy();
  }
});

test('a wait longer than maxInlineWaitMs throws with the remaining delay', async () => {
  const ws = unique('rl3');
  const limiter = new RateLimiter({ process: thisProcess, workspace: ws, maxInlineWaitMs: 1_000 });
  await limiter.block(['incremental'], 30_000);
  await assert.rejects(limiter.acquire(['account', 'incremental']), (err: unknown) => {
    assert.ok(err instanceof ZendeskRateLimitedError);
    assert.equal(err.bucket, 'incremental');
    assert.ok(err.retryAfterMs > 29_000 && err.retryAfterMs <= 30_100, String(err.retryAfterMs));
    return true;
  });
});

test('observe: a 429 blocks the exhausted bucket; pacing blocks a bucket at remaining 0 until its reset', async () => {
  const ws = unique('rl4');
  const db = testDb();
  const limiter = new RateLimiter({ process: thisProcess, workspace: ws });
  const blocked = await limiter.observe(
    ['account', 'users-cursor'],
    429,
    new Headers({ 'retry-after': '2', 'x-rate-limit-remaining': '600', 'Zendesk-RateLimit-incremental-exports-cursor': 'total=20; remaining=0; resets=2' }),
  );
  assert.deepEqual(blocked, ['users-cursor']);
  let stored = await readRateLimitBlocks(db, ws, ['account', 'users-cursor', 'incremental']);
  assert.deepEqual([...stored.keys()], ['users-cursor']);
  assert.ok(stored.get('users-cursor')! >= 1_900);

  const unclear = await limiter.observe(['account', 'incremental'], 429, new Headers({}));
  assert.deepEqual(unclear, ['account', 'incremental']);
  stored = await readRateLimitBlocks(db, ws, ['account', 'incremental']);
  assert.ok(stored.get('account')! > 9_000, 'no Retry-After: 10 s');

  const ws2 = unique('rl5');
  const pacer = new RateLimiter({ process: thisProcess, workspace: ws2 });
  assert.deepEqual(
    await pacer.observe(
      ['account', 'incremental'],
      200,
      new Headers({ 'ratelimit-remaining': '5', 'ratelimit-reset': '9', 'zendesk-ratelimit-incremental-exports': 'total=10; remaining=0; resets=3' }),
    ),
    ['incremental'],
  );
  assert.deepEqual(
    await pacer.observe(['account', 'incremental'], 200, new Headers({ 'zendesk-ratelimit-incremental-exports': 'total=10; remaining=1; resets=3' })),
    [],
  );
  const paced = await readRateLimitBlocks(db, ws2, ['account', 'incremental']);
  assert.equal(paced.has('account'), false);
  assert.ok(paced.get('incremental')! > 2_900 && paced.get('incremental')! <= 3_100);

  const reserved = new RateLimiter({ process: thisProcess, workspace: unique('rl6'), reserve: { incremental: 1 } });
  assert.deepEqual(
    await reserved.observe(['account', 'incremental'], 200, new Headers({ 'zendesk-ratelimit-incremental-exports': 'total=10; remaining=1; resets=3' })),
    ['incremental'],
  );
});

test('requests to an endpoint bucket take turns in a process; a queued caller keeps heartbeating', async () => {
  const limiter = new RateLimiter({ process: thisProcess, workspace: unique('turns'), waitTickMs: 100 });
  const path = '/api/v2/incremental/ticket_events.json';
  let releaseA!: () => void;
  const order: string[] = [];
  const a = limiter.withPermit(path, undefined, () => new Promise<void>((r) => (releaseA = r)).then(() => void order.push('a')));
  const beats: number[] = [];
  const b = limiter.withPermit(
    path,
    (ms) => void beats.push(ms),
    async () => void order.push('b'),
  );
  // c's heartbeat fails (a cancelled activity): it leaves the queue without blocking d.
  const c = limiter.withPermit(
    path,
    () => {
      throw new Error('cancelled');
    },
    async () => void order.push('c'),
  );
  const d = limiter.withPermit(path, undefined, async () => void order.push('d'));
  await assert.rejects(c, /cancelled/);
  await new Promise((r) => setTimeout(r, 350));
  assert.ok(beats.length >= 2, `heartbeats while queued: ${beats.length}`);
  assert.equal(order.length, 0);
  // Another bucket is not held up.
  await limiter.withPermit('/api/v2/incremental/users/cursor.json', undefined, async () => void order.push('other'));
  releaseA();
  await Promise.all([a, b, d]);
  assert.deepEqual(order, ['other', 'a', 'b', 'd']);
});

test('a permit waits out a block that arrived after it was given (a 429 of another request), and says so', async () => {
  const limiter = new RateLimiter({ process: thisProcess, workspace: unique('lapse'), maxInlineWaitMs: 5_000 });
  const path = '/api/v2/incremental/ticket_events.json';
  await limiter.withPermit(path, undefined, async (permit) => {
    assert.equal(await permit.waitOutBlocks(), false, 'nothing blocked: no wait');
    // Meanwhile another stream of the workspace receives a 429 on the shared account bucket.
    await limiter.block(['account'], 400);
    const beats: number[] = [];
    const started = Date.now();
    assert.equal(await permit.waitOutBlocks((ms) => void beats.push(ms)), true);
    assert.ok(Date.now() - started >= 400, `waited ${Date.now() - started} ms`);
    assert.ok(beats.length >= 1, 'onWait was called while waiting');
    // A block longer than the inline wait is thrown, as on entry.
    await limiter.block(['incremental'], 30_000);
    await assert.rejects(permit.waitOutBlocks(), (err: unknown) => err instanceof ZendeskRateLimitedError && err.bucket === 'incremental');
  });
});

test("a budget share leaves the rest of each window to the customer's other apps", async () => {
  const ws = unique('share');
  const headers = (remaining: number) => new Headers({ 'ratelimit-limit': '10', 'ratelimit-remaining': String(remaining), 'ratelimit-reset': '30' });
  const shared = new RateLimiter({ process: thisProcess, workspace: ws, budgetShare: 0.7 });
  // 10 a window at 70 %: 3 are kept back, so reaching remaining 3 closes the window for this integration.
  assert.deepEqual(await shared.observe(['account'], 200, headers(4)), []);
  assert.deepEqual(await shared.observe(['account'], 200, headers(3)), ['account']);
  assert.ok((await readRateLimitBlocks(testDb(), ws, ['account'])).get('account')! > 25_000);
  const whole = new RateLimiter({ process: thisProcess, workspace: unique('whole') });
  assert.deepEqual(await whole.observe(['account'], 200, headers(3)), [], 'without a share, the whole budget is used');
});

test('the default budget share (0.8) holds every bucket to 80 % of its limit: 8 of 10 incremental, 16 of 20 users cursor, 560 of 700 account', async () => {
  // The headers the sandbox (and Zendesk) send: the endpoint buckets in `zendesk-ratelimit-<bucket>`, the account in `ratelimit-*`.
  const cases: Array<{ bucket: 'incremental' | 'users-cursor' | 'account'; limit: number; headers: (remaining: number, limit: number) => Headers }> = [
    { bucket: 'incremental', limit: 10, headers: (r, l) => new Headers({ 'zendesk-ratelimit-incremental-exports': `total=${l}; remaining=${r}; resets=30` }) },
    {
      bucket: 'users-cursor',
      limit: 20,
      headers: (r, l) => new Headers({ 'Zendesk-RateLimit-incremental-exports-cursor': `total=${l}; remaining=${r}; resets=30` }),
    },
    {
      bucket: 'account',
      limit: 700,
      headers: (r, l) => new Headers({ 'ratelimit-limit': String(l), 'ratelimit-remaining': String(r), 'ratelimit-reset': '30' }),
    },
  ];
  for (const { bucket, limit, headers } of cases) {
    const limiter = new RateLimiter({ process: thisProcess, workspace: unique(`share-${bucket}`), budgetShare: 0.8 });
    // One window: the n-th response says limit − n remain; the limiter closes the window after its share.
    let sent = 0;
    for (let n = 1; n <= limit; n++) {
      sent = n;
      if ((await limiter.observe([bucket], 200, headers(limit - n, limit))).includes(bucket)) break;
    }
    assert.equal(sent, Math.round(limit * 0.8), `${bucket}: ${sent} of ${limit} requests a window at a share of 0.8`);
  }
});

test('a budget share always leaves this integration at least one request a window', async () => {
  const limiter = new RateLimiter({ process: thisProcess, workspace: unique('tiny-share'), budgetShare: 0.05 });
  const headers = (remaining: number) => new Headers({ 'zendesk-ratelimit-incremental-exports': `total=10; remaining=${remaining}; resets=30` });
  // 10 × 0.05 is 0.5 requests: one is still allowed, and it closes the window.
  assert.deepEqual(await limiter.observe(['incremental'], 200, headers(9)), ['incremental']);
});
