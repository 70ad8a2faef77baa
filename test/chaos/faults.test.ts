import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SandboxWorkspace } from '../../src/sandbox';
import type { ScriptedFault } from '../../src/sandbox/types';
import { api, createTenant, followConsent, startSystem, waitForSync, type System } from '../helpers/system';
import { differences } from '../helpers/expectations';
import { chaosSeed, earlyTotal, faultTotal, prng, reportCount, sleep, syncedCounts, watchExchanges, type ExchangeLog } from './helpers';

/**
 * Zendesk misbehaving at high rates while three workspaces sync at once:
 * - `storm`: almost half of all data requests fail at random — 503 with Retry-After, 500, 429 while the
 *   bucket still shows headroom, malformed bodies (truncated or wrong shape), and slow answers past the
 *   request timeout;
 * - `squeeze`: real limits, used up at random moments by another app of the same account and cut to almost
 *   nothing mid-sync (429s with no headroom left);
 * - `maintenance`: scripted bursts of 503 without Retry-After, connection resets, malformed pages and long
 *   429s, injected after every few requests until the sync ends.
 * Each must end exactly equal to the sandbox, with no request sent before a Retry-After had passed; then a
 * second, incremental sync under the same faults must be exact too.
 */

const SEED = chaosSeed('faults', 4_242);
const rand = prng(SEED);
let system: System;
let tenant: { id: string; apiKey: string };
const injected: Record<string, Record<string, number>> = {};
const real429: Record<string, number> = {};
/** Stops the burst injectors (also when a test fails, so the process can exit). */
let finished = false;
const logs: Record<string, ExchangeLog> = {};
let inFlightAt429 = 0;

before(async () => {
  // A short request timeout, so "slow" faults become timeouts.
  system = await startSystem({ env: { ZENDESK_REQUEST_TIMEOUT: '2s' } });
  tenant = await createTenant(system, 'Fault-tolerant tenant');
});

after(async () => {
  finished = true;
  for (const log of Object.values(logs)) log.stop();
  reportCount('faults', {
    seed: SEED,
    faultsInjected: Object.values(injected).reduce((n, f) => n + Object.values(f).reduce((a, b) => a + b, 0), 0),
    byWorkspace: injected,
    real429sWithoutHeadroom: real429,
    squeezeRequestsInFlightAtA429: inFlightAt429,
  });
  await system?.stop();
});

async function connect(subdomain: string): Promise<string> {
  const created = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: subdomain } });
  assert.equal(created.status, 201, created.text);
  const consent = await followConsent(created.json.authorizeUrl);
  assert.equal(consent.status, 200, consent.html);
  return created.json.id;
}

/** Scripted bursts into `ws` (seeded), one after every few requests, until `done()`. */
async function burstsUntil(ws: SandboxWorkspace, done: () => boolean): Promise<number> {
  const kinds: Array<() => ScriptedFault> = [
    () => ({ kind: '503', retryAfterSeconds: null, count: 1 + Math.floor(rand() * 3) }),
    () => ({ kind: 'reset', count: 1 + Math.floor(rand() * 2) }),
    () => ({ kind: 'malformed', malformed: rand() < 0.5 ? 'shape' : 'truncated', count: 1 + Math.floor(rand() * 2) }),
    () => ({ kind: '429', retryAfterSeconds: 1 + Math.floor(rand() * 2), count: 1 }),
    () => ({ kind: '500', count: 1 + Math.floor(rand() * 3) }),
    () => ({ kind: '503', retryAfterSeconds: 1, count: 1 }),
  ];
  let bursts = 0;
  let next = ws.stats().apiRequests;
  while (!done()) {
    // A burst after every 2–6 requests that went through: a rate per request, not per second (a client
    // backing off sends few requests, and a timed queue would fail every one of them: an outage).
    if (ws.pendingFaults() === 0 && ws.stats().apiRequests >= next) {
      ws.injectFaults([kinds[bursts % kinds.length]!()]); // every kind in turn, with seeded sizes
      bursts++;
      next = ws.stats().apiRequests + 2 + Math.floor(rand() * 5);
    }
    await sleep(50);
  }
  ws.clearFaults();
  return bursts;
}

/**
 * Another app of the same Zendesk account using up its quota: takes every request left in the current
 * window of the account bucket (never more, so it never triggers a Retry-After the product did not see).
 * The product's next request then gets a real 429 with no headroom.
 */
function drainAccount(ws: SandboxWorkspace): number {
  let taken = 0;
  const remaining = () => Number(ws.limiter.headers(null, ws.now())['ratelimit-remaining'] ?? 0);
  while (remaining() > 0 && taken < 10_000) {
    if (!ws.limiter.admit(null, ws.now()).allowed) break;
    taken++;
  }
  return taken;
}

async function competitorUntil(ws: SandboxWorkspace, done: () => boolean): Promise<number> {
  let taken = 0;
  while (!done()) {
    if (rand() < 0.5) taken += drainAccount(ws);
    await sleep(100 + rand() * 300);
  }
  return taken;
}

/**
 * No request sent early. Syncs keep several requests in flight in the account bucket (two streams, and
 * entitlement reads a few at a time), so the sandbox may also count requests that were already on the wire
 * when another one's 429 was answered (an injected fault, or another app taking the account's quota at
 * moments the product cannot see): at most those. What the product controls — sending after it has
 * received a 429 — is checked from its own requests, and must never happen.
 */
function assertNeverEarly(name: string, ws: SandboxWorkspace): void {
  const stats = ws.stats();
  const log = logs[name]!;
  assert.deepEqual(log.sentAfterA429(), [], `${name}: the product sent a request after receiving a 429 whose Retry-After had not passed`);
  const inFlight = log.inFlightAtA429();
  // The squeezed account's 429s come with no headroom at moments set by another app, the product's view of the
  // block differing from the sandbox's by clock and transit (up to one request per real 429, as before).
  const slack = name === 'squeeze' ? stats.rateLimited429 - stats.faults['429'] : 0;
  assert.ok(
    earlyTotal(stats) <= inFlight + slack,
    `${name}: ${earlyTotal(stats)} early requests, only ${inFlight} were in flight at a 429 (+${slack}): ${JSON.stringify(stats)}`,
  );
  if (name === 'squeeze') inFlightAt429 = earlyTotal(stats);
}

test('three workspaces under fault storms, real and conditional 429s and outages all sync exactly, never early', { timeout: 300_000 }, async () => {
  const storm = system.sandbox.createWorkspace({
    subdomain: 'storm',
    users: 5_000,
    ticketEvents: 30_000,
    seed: 81,
    consentMode: 'allow',
    usersCursorLimit: 4,
    incrementalLimit: 8,
    accountLimit: 40,
    faults: { rate503: 0.1, rate500: 0.1, rate429: 0.1, rateMalformed: 0.1, rateSlow: 0.08, slowMs: 2_500, retryAfterSeconds: 1, seed: SEED },
    // The exports under a storm; entitlement reads (one request per light agent) go through the
    // maintenance workspace's bursts below instead, where they stay within the test's time.
    entitlementsForbidden: true,
  });
  const squeeze = system.sandbox.createWorkspace({
    subdomain: 'squeeze',
    users: 3_000,
    ticketEvents: 30_000,
    seed: 82,
    consentMode: 'allow',
    // The account bucket binds (not the endpoint buckets), so the product sends all through each window.
    accountLimit: 10,
    incrementalLimit: 50,
    usersCursorLimit: 50,
    // ~350 light agents and contributors would each cost an entitlements request through an account bucket
    // squeezed to 3 a second: minutes that prove nothing more about the exports this test is about.
    entitlementsForbidden: true,
  });
  const maintenance = system.sandbox.createWorkspace({
    subdomain: 'maintenance',
    users: 2_000,
    ticketEvents: 20_000,
    seed: 83,
    consentMode: 'allow',
    incrementalLimit: 6,
    usersCursorLimit: 3,
  });

  for (const name of ['storm', 'squeeze', 'maintenance']) logs[name] = watchExchanges(`${system.sandbox.url}/${name}/`);
  const ids = { storm: await connect('storm'), squeeze: await connect('squeeze'), maintenance: await connect('maintenance') };
  finished = false;
  const bursts = burstsUntil(maintenance, () => finished);
  const competitor = competitorUntil(squeeze, () => finished);
  // Mid-sync, the squeezed account's limits drop to almost nothing (as if another app used them up).
  const squeezing = (async () => {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (await syncedCounts(system.db, ids.squeeze)).events < 10_000) await sleep(100);
    squeeze.setRateLimits({ accountLimit: 3 });
  })();
  const started = Date.now();
  const runs = await Promise.all(
    Object.entries(ids).map(async ([name, id]) => {
      const run = await waitForSync(system, id, { timeoutMs: 200_000 });
      console.log(`[chaos] faults: ${name} first sync ${run.status} after ${Date.now() - started} ms`);
      return run;
    }),
  );
  finished = true;
  const burstCount = await bursts;
  await competitor;
  await squeezing;

  for (const [name, ws, run] of [
    ['storm', storm, runs[0]],
    ['squeeze', squeeze, runs[1]],
    ['maintenance', maintenance, runs[2]],
  ] as const) {
    assert.equal(run!.status, 'succeeded', `${name}: ${run!.error}`);
    assert.deepEqual(await differences(system.db, ids[name], ws), [], name);
    assertNeverEarly(name, ws);
  }
  const s = storm.stats();
  assert.ok(faultTotal(s) >= 25, `storm faults: ${JSON.stringify(s.faults)}`);
  for (const kind of ['503', '500', '429', 'malformed', 'slow'] as const)
    assert.ok(s.faults[kind] > 0, `no ${kind} fault in the storm: ${JSON.stringify(s.faults)}`);
  const q = squeeze.stats();
  assert.ok(q.rateLimited429 - q.faults['429'] > 0, `the squeeze produced no real 429 (${q.rateLimited429})`);
  assert.ok(runs[1]!.rate_limited > 0, 'the squeezed run counted no rate limiting');
  const m = maintenance.stats();
  assert.ok(faultTotal(m) >= 5 && m.faults.reset > 0 && m.faults['503'] > 0, `maintenance faults: ${JSON.stringify(m.faults)} after ${burstCount} bursts`);

  // Changes, then a second (incremental) sync of each under the same faults.
  for (const ws of [storm, squeeze, maintenance]) {
    const agents = ws.users().filter((u) => u.active && u.role === 'agent' && !u.suspended);
    ws.suspendUser(agents[0]!.id);
    ws.setRole(agents[1]!.id, 'end-user', null);
    ws.deleteUser(agents[2]!.id);
    ws.addUser({ name: 'Chaos Newcomer', role: 'agent', role_type: 0 });
    ws.addTicketEvents(300);
  }
  squeeze.setRateLimits({ accountLimit: 4 });
  finished = false;
  const bursts2 = burstsUntil(maintenance, () => finished);
  const competitor2 = competitorUntil(squeeze, () => finished);
  const previous = runs.map((r) => r.id);
  for (const id of Object.values(ids)) assert.equal((await api(system, 'POST', `/v1/integrations/${id}/sync`, { key: tenant.apiKey })).status, 202);
  const again = await Promise.all(Object.values(ids).map((id) => waitForSync(system, id, { notIds: previous, timeoutMs: 120_000 })));
  finished = true;
  await bursts2;
  await competitor2;
  for (const [name, ws, run] of [
    ['storm', storm, again[0]],
    ['squeeze', squeeze, again[1]],
    ['maintenance', maintenance, again[2]],
  ] as const) {
    assert.equal(run!.status, 'succeeded', `${name} second sync: ${run!.error}`);
    assert.equal(run!.ticket_events_synced, 300, `${name} second sync events`);
    assert.deepEqual(await differences(system.db, ids[name], ws), [], `${name} after the second sync`);
    assertNeverEarly(name, ws);
    injected[name] = { ...ws.stats().faults };
    real429[name] = ws.stats().rateLimited429 - ws.stats().faults['429'];
  }
});
