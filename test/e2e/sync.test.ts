import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, connectAndSync, createTenant, followConsent, startSystem, waitFor, waitForSync, type System } from '../helpers/system';
import { differences } from '../helpers/expectations';
import { watchExchanges } from '../chaos/helpers';

/** Syncs end to end: real PostgreSQL, real Temporal, the sandbox; compared field by field with the sandbox. */
let system: System;
let tenant: { id: string; apiKey: string };

before(async () => {
  system = await startSystem();
  tenant = await createTenant(system);
});
after(() => system?.stop());

/** Triggers a sync through the API and waits for that new run to finish. */
async function syncNow(integrationId: string) {
  const previous = await runIds(integrationId);
  const res = await api(system, 'POST', `/v1/integrations/${integrationId}/sync`, { key: tenant.apiKey });
  assert.equal(res.status, 202, res.text);
  assert.match(res.json.workflowId, new RegExp(`^zendesk-sync-${integrationId}`));
  return waitForSync(system, integrationId, { notIds: previous });
}

async function runIds(integrationId: string): Promise<string[]> {
  const runs = await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', integrationId).execute();
  return runs.map((r) => r.id);
}

describe('sync', () => {
  let integrationId: string;

  test('the first sync stores every field of every user and exact interaction counts', async () => {
    const ws = system.sandbox.createWorkspace({ subdomain: 'bigco', users: 3_000, ticketEvents: 30_000, seed: 11, consentMode: 'allow' });
    const result = await connectAndSync(system, tenant.apiKey, 'bigco');
    integrationId = result.integrationId;
    assert.deepEqual(await differences(system.db, integrationId, ws), []);
    assert.equal(result.run.users_synced, 3_000);
    const stored = await system.db
      .selectFrom('ticket_events')
      .select(system.db.fn.countAll<number>().as('n'))
      .where('integration_id', '=', integrationId)
      .executeTakeFirstOrThrow();
    assert.equal(result.run.ticket_events_synced, Number(stored.n));
    // One request per page at least: 1000 users a page, 1000 events a page over the 90-day backfill.
    const backfillStart = Date.now() / 1000 - 90 * 86_400;
    const eventsInBackfill = [...ws.ticketEvents()].filter((e) => e.timestamp >= backfillStart - 60).length;
    assert.ok(result.run.requests >= 3 + Math.floor(eventsInBackfill / 1000), `requests ${result.run.requests}`);

    const view = (await api(system, 'GET', `/v1/integrations/${integrationId}`, { key: tenant.apiKey })).json;
    assert.equal(view.lastSync.status, 'succeeded');
    assert.equal(view.lastSync.usersSynced, 3_000);
    assert.ok(view.nextSyncAt, 'the schedule has a next run');
  });

  test('a second sync fetches exactly the changes, with requests that grow with the changes only', async () => {
    const ws = system.sandbox.workspace('bigco');
    const agents = ws.users().filter((u) => u.active && u.role === 'agent' && !u.suspended);
    const endUsers = ws.users().filter((u) => u.active && u.role === 'end-user');
    ws.suspendUser(agents[0]!.id);
    ws.suspendUser(agents[1]!.id);
    ws.setRole(agents[2]!.id, 'end-user', null); // demoted: frees a seat
    ws.setRole(endUsers[0]!.id, 'agent', 0); // promoted
    ws.setRole(endUsers[1]!.id, 'admin', 4);
    ws.deleteUser(agents[3]!.id);
    ws.deleteUser(endUsers[2]!.id);
    ws.addUser({ name: 'O\'Brien, "Jr"', role: 'agent', role_type: 1 });
    ws.addUser({ name: 'New Person', role: 'end-user' });
    ws.addTicketEvents(40);

    const run = await syncNow(integrationId);
    assert.equal(run.status, 'succeeded', run.error ?? '');
    assert.equal(run.users_synced, 9);
    assert.equal(run.ticket_events_synced, 40);
    // The seat holders' pages (100 a page: their cost is the number of seat holders), one show_many for the
    // two who left the list, two export pages, one or two ticket-events pages, one token check at most, one
    // entitlements read for the new light agent.
    const seatPages = Math.ceil(ws.seatHolderIds().length / 100);
    assert.ok(run.requests <= seatPages + 6, `a no-growth sync took ${run.requests} requests (${seatPages} seat pages)`);
    assert.deepEqual(await differences(system.db, integrationId, ws), []);

    const idle = await syncNow(integrationId);
    assert.equal(idle.users_synced, 0);
    assert.equal(idle.ticket_events_synced, 0);
    // The seat holders' pages, one export page, one ticket-events page.
    assert.ok(idle.requests <= seatPages + 2, `an idle sync took ${idle.requests} requests (${seatPages} seat pages)`);
  });

  test('under rate limits and faults the sync still ends exact, and no request is sent early', async () => {
    const ws = system.sandbox.createWorkspace({
      subdomain: 'flaky',
      users: 4_000,
      ticketEvents: 25_000,
      seed: 12,
      consentMode: 'allow',
      rateLimitWindowMs: 3_000,
      usersCursorLimit: 2,
      incrementalLimit: 5,
      accountLimit: 12,
      faults: { rate503: 0.08, rate500: 0.08, rateSlow: 0.05, slowMs: 300, rateMalformed: 0.08, rate429: 0.05, retryAfterSeconds: 1, seed: 5 },
      // About 450 light agents and contributors would each cost an entitlements request against 12 account
      // requests per 3 s: minutes of waiting that prove nothing more about the exports (see real-shapes.test.ts).
      entitlementsForbidden: true,
    });
    const log = watchExchanges(`${system.sandbox.url}/flaky/`);
    const result = await connectAndSync(system, tenant.apiKey, 'flaky').finally(() => log.stop());
    assert.deepEqual(await differences(system.db, result.integrationId, ws), []);
    const stats = ws.stats();
    // Never sent after a 429 it had received, before its Retry-After; the streams share the account bucket, so
    // the sandbox may also count a request of one stream already on the wire when the other's 429 was sent.
    assert.deepEqual(log.sentAfterA429(), [], 'a request sent after a 429 whose Retry-After had not passed');
    assert.ok(stats.earlyRequests.incremental + stats.earlyRequests.usersCursor + stats.earlyRequests.account <= log.inFlightAtA429(), JSON.stringify(stats));
    const injected = Object.values(stats.faults).reduce((a, b) => a + b, 0);
    assert.ok(injected >= 5, `faults injected: ${JSON.stringify(stats.faults)}`);
    assert.ok(stats.rateLimited429 > 0, 'rate limits were hit');
  });

  test('an access token that expires mid-sync is refreshed and the sync goes on', async () => {
    const ws = system.sandbox.createWorkspace({
      subdomain: 'shortlived',
      users: 2_000,
      ticketEvents: 20_000,
      seed: 13,
      consentMode: 'allow',
      accessTokenTtlSeconds: 2,
      rateLimitWindowMs: 1_500,
      incrementalLimit: 4,
    });
    const result = await connectAndSync(system, tenant.apiKey, 'shortlived');
    assert.ok(ws.stats().refreshes >= 1, 'the token was refreshed');
    assert.deepEqual(await differences(system.db, result.integrationId, ws), []);
  });

  test('a revoked grant gives needs_reauth, a paused schedule and a bounded number of requests', async () => {
    const ws = system.sandbox.createWorkspace({ subdomain: 'revoked', users: 500, ticketEvents: 2_000, seed: 14, consentMode: 'allow' });
    const { integrationId: id } = await connectAndSync(system, tenant.apiKey, 'revoked');
    ws.revokeAllGrants();
    const before = ws.stats().requests;
    const run = await syncNow(id);
    assert.equal(run.status, 'failed');
    const view = (await api(system, 'GET', `/v1/integrations/${id}`, { key: tenant.apiKey })).json;
    assert.equal(view.status, 'needs_reauth');
    assert.match(view.error, /[Rr]econnect/);
    assert.equal(view.nextSyncAt, null);
    const schedule = await system.temporal.schedule.getHandle(`zendesk-sync-${id}`).describe();
    assert.equal(schedule.state.paused, true);
    assert.ok(ws.stats().requests - before <= 8, `requests after revocation: ${ws.stats().requests - before}`);
    // Reconnecting resumes the schedule.
    const reconnect = await api(system, 'POST', `/v1/integrations/${id}/reconnect`, { key: tenant.apiKey });
    assert.equal(reconnect.status, 200);
  });

  test('a token that lost its admin rights (403) gives needs_reauth and a paused schedule', async () => {
    const ws = system.sandbox.createWorkspace({ subdomain: 'demoted', users: 300, ticketEvents: 1_000, seed: 15, consentMode: 'allow' });
    const { integrationId: id } = await connectAndSync(system, tenant.apiKey, 'demoted');
    ws.setRole(ws.ownerId, 'agent', 0); // the approving admin is no longer an admin: exports answer 403
    const run = await syncNow(id);
    assert.equal(run.status, 'failed');
    const view = (await api(system, 'GET', `/v1/integrations/${id}`, { key: tenant.apiKey })).json;
    assert.equal(view.status, 'needs_reauth');
    assert.ok(view.error.length > 20);
    assert.equal((await system.temporal.schedule.getHandle(`zendesk-sync-${id}`).describe()).state.paused, true);
  });
});

describe('sync metrics', () => {
  test('the synced-rows counters move page by page while a sync runs, and count each row once', async () => {
    const ws = system.sandbox.createWorkspace({ subdomain: 'counted', users: 2_500, ticketEvents: 3_000, seed: 16, consentMode: 'allow' });
    // Slow ticket-event pages keep the run open well after the users were written.
    ws.injectFaults([{ kind: 'slow', path: /ticket_events/, slowMs: 3_000, count: 3 }]);
    const counted = async () => {
      const [users, events] = await Promise.all([system.metrics.usersSynced.get(), system.metrics.ticketEventsSynced.get()]);
      return { users: users.values[0]?.value ?? 0, events: events.values[0]?.value ?? 0 };
    };
    const before = await counted();
    const created = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: 'counted' } });
    assert.equal(created.status, 201, created.text);
    assert.equal((await followConsent(created.json.authorizeUrl)).status, 200);
    await waitFor('users counted by the metrics', async () => (await counted()).users > before.users, 60_000);
    const running = await system.db.selectFrom('sync_runs').select('status').where('integration_id', '=', created.json.id).executeTakeFirstOrThrow();
    assert.equal(running.status, 'running', 'the users counter moved before the run ended');
    const run = await waitForSync(system, created.json.id);
    assert.equal(run.status, 'succeeded', run.error ?? '');
    const after = await counted();
    assert.equal(after.users - before.users, run.users_synced);
    assert.equal(after.events - before.events, run.ticket_events_synced);
  });
});
