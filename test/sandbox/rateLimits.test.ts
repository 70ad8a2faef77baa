import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox, SandboxWorkspace } from '../../src/sandbox';
import { api, connect, start, TestClock } from './helpers';

describe('rate limits', () => {
  let sb: Sandbox;
  const clock = new TestClock();
  before(async () => {
    sb = await start({ now: clock.now, rateLimitWindowMs: 10_000, exclusionSeconds: 0 });
  });
  after(() => sb.close());

  async function workspace(sub: string, opts: Record<string, unknown> = {}): Promise<{ ws: SandboxWorkspace; token: string }> {
    const ws = sb.createWorkspace({ subdomain: sub, users: 50, ticketEvents: 100, consentMode: 'allow', ...opts });
    const token = (await connect(sb, sub)).access_token;
    return { ws, token };
  }

  test('every API response carries the account headers', async () => {
    const { token } = await workspace('headers', { plan: 'growth' });
    const r = await api(sb, 'headers', '/api/v2/users', token);
    assert.equal(r.headers.get('x-rate-limit'), '400');
    assert.equal(r.headers.get('x-rate-limit-remaining'), '399');
    assert.equal(r.headers.get('ratelimit-limit'), '400');
    assert.equal(r.headers.get('ratelimit-remaining'), '399');
    assert.equal(r.headers.get('ratelimit-reset'), '10');
    const inc = await api(sb, 'headers', '/api/v2/incremental/ticket_events?start_time=0', token);
    assert.equal(inc.headers.get('zendesk-ratelimit-incremental-exports'), 'total=10; remaining=9; resets=10');
    const cur = await api(sb, 'headers', '/api/v2/incremental/users/cursor?start_time=0', token);
    assert.equal(cur.headers.get('zendesk-ratelimit-incremental-exports-cursor'), 'total=20; remaining=19; resets=10');
    assert.equal(cur.headers.get('x-rate-limit-remaining'), '397');
  });

  test('plans map to Zendesk limits', async () => {
    const { ws } = await workspace('plans', { plan: 'team' });
    assert.equal(ws.rateLimits().account, 200);
    ws.setRateLimits({ plan: 'enterprise_plus' });
    assert.equal(ws.rateLimits().account, 2500);
    ws.setRateLimits({ accountLimit: 33 });
    assert.equal(ws.rateLimits().account, 33);
  });

  test('over the account limit: 429 with Retry-After; early retries are counted', async () => {
    const { ws, token } = await workspace('account', { accountLimit: 5 });
    for (let i = 0; i < 5; i++) assert.equal((await api(sb, 'account', '/api/v2/users', token)).status, 200);
    clock.advance(2500);
    const limited = await api(sb, 'account', '/api/v2/users', token);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '8'); // ceil(7.5 s left in the window)
    assert.equal(ws.stats().earlyRequests.account, 0);
    clock.advance(1000);
    assert.equal((await api(sb, 'account', '/api/v2/users', token)).status, 429);
    assert.equal(ws.stats().earlyRequests.account, 1);
    // After the window resets but before Retry-After: allowed, yet still early.
    clock.advance(6600);
    assert.equal((await api(sb, 'account', '/api/v2/users', token)).status, 200);
    assert.equal(ws.stats().earlyRequests.account, 2);
    clock.advance(1000);
    assert.equal((await api(sb, 'account', '/api/v2/users', token)).status, 200);
    const s = ws.stats();
    assert.equal(s.earlyRequests.account, 2);
    assert.equal(s.rateLimited429, 2);
    assert.equal(s.rateLimited429ByBucket.account, 2);
    assert.equal(s.byEndpoint['GET /api/v2/users'], 9);
    assert.equal(s.byStatus['429'], 2);
  });

  test('incremental exports share a 10/window bucket; the users cursor has its own 20', async () => {
    const { ws, token } = await workspace('buckets');
    for (let i = 0; i < 10; i++) assert.equal((await api(sb, 'buckets', '/api/v2/incremental/ticket_events?start_time=0', token)).status, 200);
    const r = await api(sb, 'buckets', '/api/v2/incremental/ticket_events?start_time=0', token);
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    // The users cursor export and plain endpoints still work.
    for (let i = 0; i < 20; i++) assert.equal((await api(sb, 'buckets', '/api/v2/incremental/users/cursor?start_time=0', token)).status, 200);
    assert.equal((await api(sb, 'buckets', '/api/v2/incremental/users/cursor?start_time=0', token)).status, 429);
    assert.equal((await api(sb, 'buckets', '/api/v2/users', token)).status, 200);
    const s = ws.stats();
    assert.equal(s.rateLimited429ByBucket.incremental, 1);
    assert.equal(s.rateLimited429ByBucket.usersCursor, 1);
    assert.equal(s.earlyRequests.incremental, 0);
    await api(sb, 'buckets', '/api/v2/incremental/ticket_events?start_time=0', token);
    assert.equal(ws.stats().earlyRequests.incremental, 1);
    assert.equal(ws.stats().earlyRequests.account, 0);
    clock.advance(10_000);
    assert.equal((await api(sb, 'buckets', '/api/v2/incremental/ticket_events?start_time=0', token)).status, 200);
    assert.equal(ws.stats().earlyRequests.incremental, 1);
    ws.resetStats();
    assert.equal(ws.stats().requests, 0);
  });

  test('rateLimits:false never answers 429', async () => {
    const { ws, token } = await workspace('unlimited', { rateLimits: false, accountLimit: 1 });
    for (let i = 0; i < 15; i++) assert.equal((await api(sb, 'unlimited', '/api/v2/incremental/ticket_events?start_time=0', token)).status, 200);
    assert.equal(ws.stats().rateLimited429, 0);
    assert.equal(ws.stats().bucketRequests.incremental, 15);
  });

  test('the real-time window works with the default clock too', async () => {
    const real = await start({ rateLimitWindowMs: 1000 });
    try {
      real.createWorkspace({ subdomain: 'fast', users: 5, ticketEvents: 0, consentMode: 'allow', accountLimit: 2 });
      const t = (await connect(real, 'fast')).access_token;
      await api(real, 'fast', '/api/v2/users', t);
      await api(real, 'fast', '/api/v2/users', t);
      const r = await api(real, 'fast', '/api/v2/users', t);
      assert.equal(r.status, 429);
      assert.equal(r.headers.get('retry-after'), '1');
      await new Promise((res) => setTimeout(res, 1000));
      assert.equal((await api(real, 'fast', '/api/v2/users', t)).status, 200);
      assert.equal(real.workspace('fast').stats().earlyRequests.account, 0);
    } finally {
      await real.close();
    }
  });
});
