import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiCache } from '../../src/api/cache/apiCache';
import { CachedLoader } from '../../src/api/cache/cachedLoader';
import { LruCache } from '../../src/api/cache/lru';
import { ParsedQueries } from '../../src/api/cache/parsedQueries';
import { RefreshQueue } from '../../src/api/cache/refreshQueue';
import { reportCacheKey } from '../../src/api/cache/reportKey';

/** The report cache's pure parts: LRU bounds and expiry, tags, single flight, invalidation, keys. */

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('LruCache', () => {
  test('evicts the least recently used entry beyond the entry count', () => {
    const lru = new LruCache<string>({ maxEntries: 2, maxBytes: 1_000, ttlMs: 60_000 });
    lru.set('a', 'A', { bytes: 1, tags: [] });
    lru.set('b', 'B', { bytes: 1, tags: [] });
    assert.equal(lru.get('a'), 'A'); // a is now the most recent
    lru.set('c', 'C', { bytes: 1, tags: [] });
    assert.equal(lru.get('b'), undefined);
    assert.equal(lru.get('a'), 'A');
    assert.equal(lru.get('c'), 'C');
    assert.equal(lru.size, 2);
  });

  test('stays under its byte bound and refuses an entry heavier than the bound', () => {
    const lru = new LruCache<string>({ maxEntries: 100, maxBytes: 100, ttlMs: 60_000 });
    lru.set('a', 'A', { bytes: 40, tags: [] });
    lru.set('b', 'B', { bytes: 40, tags: [] });
    lru.set('c', 'C', { bytes: 40, tags: [] });
    assert.equal(lru.get('a'), undefined);
    assert.equal(lru.bytes, 80);
    assert.equal(lru.set('huge', 'H', { bytes: 101, tags: [] }), false);
    assert.equal(lru.get('huge'), undefined);
    assert.equal(lru.bytes, 80);
    lru.set('b', 'B2', { bytes: 10, tags: [] }); // replacing an entry re-weighs it
    assert.equal(lru.bytes, 50);
  });

  test('expires entries by age, counted from when their computation started', () => {
    const c = clock();
    const lru = new LruCache<string>({ maxEntries: 10, maxBytes: 100, ttlMs: 1_000, now: c.now });
    lru.set('a', 'A', { bytes: 1, tags: [] });
    lru.set('b', 'B', { bytes: 1, tags: [], storedAt: c.now() - 600 });
    c.advance(500);
    assert.equal(lru.get('a'), 'A');
    assert.equal(lru.get('b'), undefined);
    c.advance(500);
    assert.equal(lru.get('a'), undefined);
    assert.equal(lru.size, 0);
    assert.equal(lru.set('old', 'O', { bytes: 1, tags: [], storedAt: c.now() - 1_000 }), false);
  });

  test('drops every entry carrying a tag, and only those', () => {
    const lru = new LruCache<string>({ maxEntries: 10, maxBytes: 100, ttlMs: 60_000 });
    lru.set('a1', 'x', { bytes: 1, tags: ['integration:a', 'tenant:t'] });
    lru.set('a2', 'x', { bytes: 1, tags: ['integration:a', 'tenant:t'] });
    lru.set('b1', 'x', { bytes: 1, tags: ['integration:b', 'tenant:t'] });
    assert.equal(lru.deleteTag('integration:a'), 2);
    assert.equal(lru.get('a1'), undefined);
    assert.equal(lru.get('b1'), 'x');
    assert.equal(lru.deleteTag('tenant:t'), 1);
    assert.equal(lru.size, 0);
    assert.equal(lru.bytes, 0);
  });
});

describe('ParsedQueries', () => {
  test('one parse per tenant, integration and query string; a failed parse is never kept', () => {
    const memo = new ParsedQueries<string>();
    const calls: string[] = [];
    const parse = (tenantId: string, integrationId: string, query: unknown) => {
      const q = (query as { q?: string }).q ?? '';
      calls.push(`${tenantId}/${integrationId}/${q}`);
      if (q === 'bad') throw new Error('400');
      return `${tenantId}/${integrationId}/${q}`;
    };
    const req = (url: string) => ({ url, query: Object.fromEntries(new URL(url, 'http://x').searchParams) }) as never;
    assert.equal(memo.get('t1', 'i1', req('/users?q=a'), parse), 't1/i1/a');
    assert.equal(memo.get('t1', 'i1', req('/users?q=a'), parse), 't1/i1/a');
    assert.equal(memo.get('t2', 'i1', req('/users?q=a'), parse), 't2/i1/a');
    assert.equal(memo.get('t1', 'i2', req('/users?q=a'), parse), 't1/i2/a');
    assert.equal(memo.get('t1', 'i1', req('/users'), parse), 't1/i1/');
    assert.throws(() => memo.get('t1', 'i1', req('/users?q=bad'), parse));
    assert.throws(() => memo.get('t1', 'i1', req('/users?q=bad'), parse));
    assert.deepEqual(calls, ['t1/i1/a', 't2/i1/a', 't1/i2/a', 't1/i1/', 't1/i1/bad', 't1/i1/bad']);
  });
});

describe('RefreshQueue', () => {
  const turned = async (ticket: { turn: Promise<void> }) => {
    let done = false;
    void ticket.turn.then(() => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    return done;
  };

  test('runs `concurrency` at a time in order; a promoted ticket starts at once and takes no slot', async () => {
    const queue = new RefreshQueue(1);
    const [a, b, c, d] = [queue.enter(), queue.enter(), queue.enter(), queue.enter()];
    assert.deepEqual([await turned(a), await turned(b), await turned(c), await turned(d)], [true, false, false, false]);
    c.promote();
    assert.equal(await turned(c), true);
    assert.equal(c.promoted, true);
    assert.equal(await turned(b), false, 'the promoted ticket did not take the slot');
    a.leave();
    a.leave();
    assert.equal(await turned(b), true);
    assert.equal(await turned(d), false, 'leaving twice frees one slot');
    c.leave();
    assert.equal(await turned(d), false, 'a promoted ticket frees no slot');
    b.leave();
    assert.equal(await turned(d), true);
  });
});

describe('CachedLoader', () => {
  const make = (opts: Partial<ConstructorParameters<typeof CachedLoader>[0]> = {}) => {
    const outcomes: string[] = [];
    const loader = new CachedLoader<string>({ maxEntries: 100, maxBytes: 1_000, ttlMs: 60_000, onLookup: (o) => outcomes.push(o), ...opts });
    loader.setEnabled(true);
    return { loader, outcomes };
  };

  test('concurrent misses of one key wait for one computation; then hits', async () => {
    const { loader, outcomes } = make();
    let calls = 0;
    const gate = deferred<void>();
    const load = async () => {
      calls++;
      await gate.promise;
      return { value: 'v', bytes: 1 };
    };
    const all = Promise.all(Array.from({ length: 5 }, () => loader.get('k', [], load)));
    gate.resolve();
    const results = await all;
    assert.equal(calls, 1);
    assert.deepEqual(
      results.map((r) => r.value),
      ['v', 'v', 'v', 'v', 'v'],
    );
    assert.deepEqual(outcomes, ['miss', 'coalesced', 'coalesced', 'coalesced', 'coalesced']);
    assert.deepEqual(await loader.get('k', [], load), { value: 'v', outcome: 'hit' });
    assert.equal(calls, 1);
  });

  test('errors reach every waiter and are not cached', async () => {
    const { loader } = make();
    let calls = 0;
    const failing = async () => {
      calls++;
      throw new Error('boom');
    };
    const results = await Promise.allSettled([loader.get('k', [], failing), loader.get('k', [], failing)]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    assert.equal(calls, 1);
    assert.deepEqual(await loader.get('k', [], async () => ({ value: 'ok', bytes: 1 })), { value: 'ok', outcome: 'miss' });
  });

  test('a computation running across an invalidation answers its waiters but is not stored', async () => {
    const { loader } = make();
    const gate = deferred<void>();
    const first = loader.get('k', ['integration:a'], async () => {
      await gate.promise;
      return { value: 'before the change', bytes: 1 };
    });
    loader.invalidate('integration:a');
    // A lookup after the invalidation does not join the stale computation.
    const second = loader.get('k', ['integration:a'], async () => ({ value: 'after the change', bytes: 1 }));
    gate.resolve();
    assert.equal((await first).value, 'before the change');
    assert.deepEqual(await second, { value: 'after the change', outcome: 'miss' });
    assert.deepEqual(await loader.get('k', ['integration:a'], async () => ({ value: 'x', bytes: 1 })), { value: 'after the change', outcome: 'hit' });
  });

  test('an invalidation of another tag leaves entries alone; reset drops everything', async () => {
    const { loader } = make();
    await loader.get('k', ['integration:a'], async () => ({ value: 'a', bytes: 1 }));
    loader.invalidate('integration:b');
    assert.equal((await loader.get('k', ['integration:a'], async () => ({ value: 'new', bytes: 1 }))).outcome, 'hit');
    loader.reset();
    assert.equal((await loader.get('k', ['integration:a'], async () => ({ value: 'new', bytes: 1 }))).value, 'new');
  });

  test('disabled: every lookup computes and nothing is kept; disabling mid-flight stores nothing', async () => {
    const { loader, outcomes } = make();
    const gate = deferred<void>();
    const running = loader.get('k', [], async () => {
      await gate.promise;
      return { value: 'v1', bytes: 1 };
    });
    loader.setEnabled(false);
    gate.resolve();
    await running;
    let calls = 0;
    const load = async () => ({ value: `v${++calls + 1}`, bytes: 1 });
    assert.deepEqual(await loader.get('k', [], load), { value: 'v2', outcome: 'bypass' });
    assert.deepEqual(await loader.get('k', [], load), { value: 'v3', outcome: 'bypass' });
    loader.setEnabled(true);
    assert.equal((await loader.get('k', [], load)).outcome, 'miss');
    assert.deepEqual(outcomes, ['miss', 'bypass', 'bypass', 'miss']);
  });

  test('a hit past refreshAfterMs is answered from the cache and recomputes the entry in the background, once', async () => {
    const c = clock();
    const { loader, outcomes } = make({ ttlMs: 1_000, refreshAfterMs: 600, now: c.now });
    let calls = 0;
    const gate = deferred<void>();
    const load = async () => {
      const n = ++calls;
      if (n > 1) await gate.promise;
      return { value: `v${n}`, bytes: 1 };
    };
    assert.equal((await loader.get('k', [], load)).value, 'v1');
    c.advance(599);
    assert.deepEqual(await loader.get('k', [], load), { value: 'v1', outcome: 'hit' });
    assert.equal(calls, 1, 'younger than refreshAfterMs: no recomputation');
    c.advance(1);
    // Past refreshAfterMs: both lookups answer at once with the entry; one recomputation starts.
    assert.deepEqual(await loader.get('k', [], load), { value: 'v1', outcome: 'hit' });
    assert.deepEqual(await loader.get('k', [], load), { value: 'v1', outcome: 'hit' });
    assert.equal(calls, 2);
    gate.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(await loader.get('k', [], load), { value: 'v2', outcome: 'hit' });
    // The refreshed entry's age counts from its computation's start (t = 600): it expires at 1,600.
    c.advance(1_000);
    assert.equal((await loader.get('k', [], load)).outcome, 'miss');
    assert.deepEqual(outcomes, ['miss', 'hit', 'hit', 'hit', 'hit', 'miss']);
  });

  test('a background refresh that runs across an invalidation is not stored; a failed one keeps the entry', async () => {
    const c = clock();
    const { loader } = make({ ttlMs: 1_000, refreshAfterMs: 500, now: c.now });
    await loader.get('k', ['integration:a'], async () => ({ value: 'v1', bytes: 1 }));
    c.advance(500);
    const gate = deferred<void>();
    await loader.get('k', ['integration:a'], async () => {
      await gate.promise;
      return { value: 'read before the change', bytes: 1 };
    });
    loader.invalidate('integration:a');
    gate.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(await loader.get('k', ['integration:a'], async () => ({ value: 'after', bytes: 1 })), { value: 'after', outcome: 'miss' });

    c.advance(500);
    await loader.get('k', ['integration:a'], async () => {
      throw new Error('PostgreSQL is down');
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(await loader.get('k', ['integration:a'], async () => ({ value: 'x', bytes: 1 })), { value: 'after', outcome: 'hit' });
  });

  test('markStale keeps entries and serves them, recomputing each once in the background; a hard invalidation drops them', async () => {
    const { loader, outcomes } = make();
    let version = 1;
    let calls = 0;
    const gate = deferred<void>();
    const load = async () => {
      calls++;
      const v = version;
      if (calls === 2) await gate.promise;
      return { value: `v${v}`, bytes: 1 };
    };
    assert.equal((await loader.get('k', ['integration:a'], load)).value, 'v1');
    version = 2;
    loader.markStale('integration:b');
    assert.deepEqual(await loader.get('k', ['integration:a'], load), { value: 'v1', outcome: 'hit' });
    assert.equal(calls, 1, "another integration's progress changes nothing");
    loader.markStale('integration:a');
    assert.deepEqual(await loader.get('k', ['integration:a'], load), { value: 'v1', outcome: 'hit' });
    assert.deepEqual(await loader.get('k', ['integration:a'], load), { value: 'v1', outcome: 'hit' });
    assert.equal(calls, 2, 'one recomputation for both hits');
    // More progress while it runs: its result is stored stale, so the next hit recomputes again.
    version = 3;
    loader.markStale('integration:a');
    gate.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(await loader.get('k', ['integration:a'], load), { value: 'v2', outcome: 'hit' });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(calls, 3);
    assert.deepEqual(await loader.get('k', ['integration:a'], load), { value: 'v3', outcome: 'hit' });
    assert.equal(calls, 3, 'a fresh entry is not recomputed');
    version = 4;
    loader.invalidate('integration:a');
    assert.deepEqual(await loader.get('k', ['integration:a'], load), { value: 'v4', outcome: 'miss' });
    assert.deepEqual(outcomes, ['miss', 'hit', 'hit', 'hit', 'hit', 'hit', 'miss']);
  });

  test('refreshConcurrency: background refreshes wait their turn; a lookup that needs a queued one starts it; an invalidated one never runs', async () => {
    const c = clock();
    const { loader } = make({ ttlMs: 1_000, refreshAfterMs: 500, refreshConcurrency: 1, now: c.now });
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred<void>>>();
    const load = (key: string, version: string) => async () => {
      started.push(`${key}${version}`);
      const gate = deferred<void>();
      gates.set(`${key}${version}`, gate);
      if (version === '2') await gate.promise;
      return { value: `${key}${version}`, bytes: 1 };
    };
    for (const key of ['a', 'b', 'c']) await loader.get(key, [`integration:${key}`], load(key, '1'));
    c.advance(500);
    // Three hits past refreshAfterMs: one refresh runs, two wait.
    for (const key of ['a', 'b', 'c']) assert.equal((await loader.get(key, [`integration:${key}`], load(key, '2'))).outcome, 'hit');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(started, ['a1', 'b1', 'c1', 'a2']);
    // b's entry expires while its refresh waits: the lookup joins that refresh and starts it at once.
    c.advance(500);
    loader.invalidate('integration:c');
    const b = loader.get('b', ['integration:b'], load('b', '3'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(started, ['a1', 'b1', 'c1', 'a2', 'b2']);
    gates.get('b2')!.resolve();
    assert.deepEqual(await b, { value: 'b2', outcome: 'coalesced' });
    // a's refresh ends: the slot goes to c's, which was invalidated meanwhile and is dropped unrun.
    gates.get('a2')!.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(started, ['a1', 'b1', 'c1', 'a2', 'b2']);
    assert.deepEqual(await loader.get('c', ['integration:c'], load('c', '4')), { value: 'c4', outcome: 'miss' });
  });

  test('entries expire after the TTL', async () => {
    const c = clock();
    const { loader } = make({ ttlMs: 1_000, now: c.now });
    let n = 0;
    const load = async () => ({ value: String(++n), bytes: 1 });
    assert.equal((await loader.get('k', [], load)).value, '1');
    c.advance(999);
    assert.equal((await loader.get('k', [], load)).value, '1');
    c.advance(1);
    assert.equal((await loader.get('k', [], load)).value, '2');
  });
});

describe('ApiCache', () => {
  test("a tenant change drops that tenant's entries and every key lookup; TTL 0 never enables", async () => {
    const cache = new ApiCache({ ttlMs: 60_000, maxBytes: 1_000_000 });
    cache.setEnabled(true);
    const report = { value: { body: Buffer.from('{}'), gzip: undefined, asOf: 'x', etag: 'e' }, bytes: 2 };
    await cache.reports.get('r1', ['integration:i1', 'tenant:t1'], async () => report);
    await cache.reports.get('r2', ['integration:i2', 'tenant:t2'], async () => report);
    await cache.tenants.get('hash', [], async () => ({
      value: {
        tenant: {
          id: 't2',
          name: 'n',
          api_key_hash: null,
          created_at: new Date(),
          status: 'active',
          offboarded_at: null,
          display_name: null,
          allowed_origins: [],
          allowed_return_urls: [],
        },
        keyId: 'k',
        expiresAt: null,
      },
      bytes: 1,
    }));
    cache.invalidate('tenant:t1');
    assert.equal(cache.reports.size, 1);
    assert.equal(cache.tenants.size, 0);
    cache.invalidate('all');
    assert.equal(cache.reports.size, 0);
    const off = new ApiCache({ ttlMs: 0, maxBytes: 1_000 });
    off.setEnabled(true);
    assert.equal(off.enabled, false);
  });
});

describe('reportCacheKey', () => {
  test('equal parsed queries give one key; anything that changes the answer gives another', () => {
    const key = (q: Record<string, unknown>) => reportCacheKey('users', 't', 'i', q);
    assert.equal(key({ role: ['agent', 'admin'], limit: 100, q: undefined }), key({ limit: 100, role: ['admin', 'agent', 'admin'] }));
    assert.equal(key({ createdAfter: new Date('2024-01-01T00:00:00Z') }), key({ createdAfter: new Date('2024-01-01') }));
    assert.notEqual(key({ limit: 100 }), key({ limit: 101 }));
    assert.notEqual(key({ limit: 100 }), key({ limit: 100, cursor: 'abc' }));
    assert.notEqual(key({ suspended: true }), key({ suspended: false }));
    assert.notEqual(reportCacheKey('users', 't1', 'i', {}), reportCacheKey('users', 't2', 'i', {}));
    assert.notEqual(reportCacheKey('users', 't', 'i', {}), reportCacheKey('utilization', 't', 'i', {}));
  });
});

describe('report cache bounded per tenant', () => {
  test("one tenant filling the cache evicts its own reports, never another tenant's", () => {
    const lru = new LruCache<string>({ maxEntries: 1_000, maxBytes: 100, partitionMaxBytes: 25, ttlMs: 60_000 });
    for (const k of ['b1', 'b2']) lru.set(k, k, { bytes: 10, tags: [], partition: 'tenant:b' });
    for (let i = 0; i < 50; i++) lru.set(`a${i}`, 'A', { bytes: 10, tags: [], partition: 'tenant:a' });
    assert.equal(lru.get('b1'), 'b1');
    assert.equal(lru.get('b2'), 'b2');
    assert.deepEqual(lru.usage('tenant:a'), { entries: 2, bytes: 20 }, 'at most its share');
    assert.equal(lru.get('a49'), 'A', 'its newest are kept');
    assert.equal(lru.get('a0'), undefined);
  });

  test('when the whole cache is full, the heaviest tenant gives up its least recently used report', () => {
    const lru = new LruCache<string>({ maxEntries: 6, maxBytes: 1_000, partitionMaxEntries: 3, ttlMs: 60_000 });
    lru.set('c1', 'c', { bytes: 1, tags: [], partition: 'c' });
    for (const k of ['a1', 'a2', 'a3']) lru.set(k, k, { bytes: 1, tags: [], partition: 'a' });
    for (const k of ['b1', 'b2']) lru.set(k, k, { bytes: 1, tags: [], partition: 'b' });
    lru.get('a1'); // a2 is now a's least recently used
    lru.set('b3', 'b3', { bytes: 1, tags: [], partition: 'b' }); // 7 > 6: a (3) and b (3) tie... a is first found
    assert.equal(lru.size, 6);
    assert.equal(lru.get('c1'), 'c', 'the light tenant keeps its report although it is the least recently used overall');
    assert.equal(lru.get('a2'), undefined);
  });

  test("ApiCache: a tenant computing reports in a loop leaves another tenant's cached reports alone", async () => {
    const cache = new ApiCache({ ttlMs: 60_000, maxBytes: 1_000, tenantMaxBytes: 300 });
    cache.setEnabled(true);
    const load = (v: string) => async () => ({ value: { body: Buffer.from(v), gzip: undefined, asOf: '', etag: v }, bytes: 100 });
    await cache.reports.get('victim-report', ['tenant:victim'], load('v'));
    for (let i = 0; i < 100; i++) await cache.reports.get(`noisy-${i}`, ['tenant:noisy'], load(`n${i}`));
    const again = await cache.reports.get('victim-report', ['tenant:victim'], load('recomputed'));
    assert.equal(again.outcome, 'hit');
    assert.ok(cache.reports.bytes <= 400, `${cache.reports.bytes}`);
  });
});

describe('LruCache bookkeeping', () => {
  test('after any mix of sets, hits, deletes, tag drops and expiries, its totals are the sums of what it holds, within every bound', () => {
    // A seeded walk (the same every run): the partitions' lru-cache evicts behind our indexes' back, so
    // the totals, the tag index and the bounds must stay exact whatever order things happen in.
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31), seed % n);
    const c = clock();
    const opts = { maxEntries: 20, maxBytes: 200, partitionMaxEntries: 8, partitionMaxBytes: 90, ttlMs: 5_000, now: c.now };
    const lru = new LruCache<number>(opts);
    const partitions = ['p0', 'p1', 'p2', 'p3'];
    for (let step = 0; step < 5_000; step++) {
      const key = `k${rand(60)}`;
      const op = rand(10);
      if (op < 5) {
        lru.set(key, step, { bytes: 1 + rand(40), partition: partitions[rand(4)]!, tags: [`t${rand(5)}`], storedAt: c.now() - rand(3) * 1_000 });
      } else if (op < 7) lru.get(key);
      else if (op < 8) lru.delete(key);
      else if (op < 9) lru.deleteTag(`t${rand(5)}`);
      else c.advance(rand(1_500));
      const usage = partitions.map((p) => lru.usage(p));
      assert.equal(
        lru.size,
        usage.reduce((n, u) => n + u.entries, 0),
        `entries at step ${step}`,
      );
      assert.equal(
        lru.bytes,
        usage.reduce((n, u) => n + u.bytes, 0),
        `bytes at step ${step}`,
      );
      assert.ok(lru.size <= opts.maxEntries && lru.bytes <= opts.maxBytes, `global bounds at step ${step}`);
      for (const u of usage) assert.ok(u.entries <= opts.partitionMaxEntries && u.bytes <= opts.partitionMaxBytes, `partition bounds at step ${step}`);
    }
    // Every tag drop finds exactly what carries it: drop them all and nothing is left.
    for (let t = 0; t < 5; t++) lru.deleteTag(`t${t}`);
    assert.equal(lru.size, 0);
    assert.equal(lru.bytes, 0);
  });
});
