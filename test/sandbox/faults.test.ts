import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox, SandboxWorkspace } from '../../src/sandbox';
import { api, connect, postToken, start, CLIENT } from './helpers';

describe('faults', () => {
  let sb: Sandbox;
  let ws: SandboxWorkspace;
  let token: string;
  before(async () => {
    sb = await start({ exclusionSeconds: 0 });
    ws = sb.createWorkspace({ subdomain: 'faulty', users: 40, ticketEvents: 200, consentMode: 'allow' });
    token = (await connect(sb, 'faulty')).access_token;
  });
  after(() => sb.close());

  const get = (path: string) => api(sb, 'faulty', path, token);

  test('scripted 503 comes with Retry-After, then the endpoint recovers', async () => {
    ws.injectFaults([{ kind: '503', count: 2, retryAfterSeconds: 3 }]);
    for (let i = 0; i < 2; i++) {
      const r = await get('/api/v2/users');
      assert.equal(r.status, 503);
      assert.equal(r.headers.get('retry-after'), '3');
    }
    assert.equal((await get('/api/v2/users')).status, 200);
    assert.equal(ws.stats().faults['503'], 2);
  });

  test('a 503 without Retry-After (maintenance) and a 500', async () => {
    ws.injectFaults([{ kind: '503', retryAfterSeconds: null }, { kind: '500' }]);
    const a = await get('/api/v2/users');
    assert.equal(a.status, 503);
    assert.equal(a.headers.get('retry-after'), null);
    assert.equal((await get('/api/v2/users')).status, 500);
  });

  test('faults can target a path (string or RegExp); others pass', async () => {
    ws.injectFaults([{ kind: '500', path: '/api/v2/incremental/ticket_events' }]);
    assert.equal((await get('/api/v2/users')).status, 200);
    assert.equal((await get('/api/v2/incremental/ticket_events.json?start_time=0')).status, 500);
    ws.injectFaults([{ kind: '500', path: /users\/cursor/ }]);
    assert.equal((await get('/api/v2/incremental/ticket_events.json?start_time=0')).status, 200);
    assert.equal((await get('/api/v2/incremental/users/cursor?start_time=0')).status, 500);
    assert.equal(ws.pendingFaults(), 0);
  });

  test('a path fault can hit the token endpoint', async () => {
    ws.injectFaults([{ kind: '503', path: '/oauth/tokens' }]);
    const r = await fetch(`${sb.url}/faulty/oauth/tokens`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 503);
    const ok = await postToken(sb, 'faulty', {
      grant_type: 'refresh_token',
      refresh_token: 'x',
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
    });
    assert.equal(ok.body.error, 'invalid_grant');
  });

  test('a 429 fault with headroom left sets the Retry-After deadline (early requests count)', async () => {
    ws.resetStats();
    ws.injectFaults([{ kind: '429', path: '/api/v2/incremental/ticket_events', retryAfterSeconds: 30 }]);
    const r = await get('/api/v2/incremental/ticket_events?start_time=0');
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '30');
    assert.notEqual(r.headers.get('x-rate-limit-remaining'), '0');
    assert.equal((await get('/api/v2/incremental/ticket_events?start_time=0')).status, 200);
    const s = ws.stats();
    assert.equal(s.rateLimited429ByBucket.incremental, 1);
    assert.equal(s.earlyRequests.incremental, 1);
    ws.resetRateLimits();
  });

  test('malformed answers are 200 with truncated or wrong-shaped JSON', async () => {
    ws.injectFaults([{ kind: 'malformed', malformed: 'truncated' }]);
    const a = await get('/api/v2/users?page[size]=5');
    assert.equal(a.status, 200);
    assert.throws(() => JSON.parse(a.text));
    ws.injectFaults([{ kind: 'malformed', malformed: 'shape' }]);
    const b = await get('/api/v2/users?page[size]=5');
    assert.equal(b.status, 200);
    assert.equal(Array.isArray(b.body.users), false);
  });

  test('reset destroys the connection', async () => {
    ws.injectFaults([{ kind: 'reset' }]);
    await assert.rejects(fetch(`${sb.url}/faulty/api/v2/users`, { headers: { authorization: `Bearer ${token}` } }));
    assert.equal((await get('/api/v2/users')).status, 200);
  });

  test('slow answers arrive late but correct', async () => {
    ws.injectFaults([{ kind: 'slow', slowMs: 300 }]);
    const t0 = Date.now();
    const r = await get('/api/v2/users');
    assert.equal(r.status, 200);
    assert.ok(Date.now() - t0 >= 290);
  });

  test('random faults follow their rates, reproducibly from the seed', async () => {
    const run = async () => {
      ws.setFaults({ rate503: 0.2, rate500: 0.1, rateMalformed: 0.1, seed: 99 });
      const statuses: number[] = [];
      for (let i = 0; i < 200; i++) {
        const r = await get('/api/v2/users?page[size]=1');
        statuses.push(r.status === 200 && r.body?.users === undefined ? -1 : r.status);
      }
      ws.setFaults(null);
      return statuses;
    };
    const a = await run();
    const b = await run();
    assert.deepEqual(a, b);
    const n503 = a.filter((s) => s === 503).length;
    const n500 = a.filter((s) => s === 500).length;
    assert.ok(n503 > 20 && n503 < 65, `503s: ${n503}`);
    assert.ok(n500 > 5 && n500 < 40, `500s: ${n500}`);
    assert.ok(a.filter((s) => s === -1 || s === 200).length > 100);
    // The OAuth token API is not a data endpoint: random faults leave it alone.
    ws.setFaults({ rate500: 1 });
    assert.equal((await get('/api/v2/oauth/tokens/current')).status, 200);
    assert.equal((await get('/api/v2/users')).status, 500);
    ws.setFaults(null);
  });
});
