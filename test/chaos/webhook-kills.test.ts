import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, createTenant, startSystem, waitFor, type System } from '../helpers/system';
import { WebhookReceiver } from '../helpers/webhookReceiver';
import { startWorkerProcess, type WorkerProcess } from '../helpers/workerProcess';

/**
 * A worker process SIGKILLed while its deliveries wait for the receiver's answer (issue 18): the relay and the
 * delivery workflows run only in worker processes here, so after the kill nothing is delivered until a new
 * worker takes over — then every event arrives, the ones in flight again with the same `webhook-id` (and a
 * signature for the new attempt's timestamp), none lost, each recorded as one succeeded delivery.
 */

const EVENTS = 12;
/** The receiver holds the first requests this long: far longer than the test waits before the kill. */
const HOLD_MS = 120_000;

let system: System;
const workers: WorkerProcess[] = [];
const receiver = new WebhookReceiver();

before(async () => {
  await receiver.start();
  system = await startSystem({
    inProcessWorker: false,
    env: { WEBHOOK_ALLOW_HOSTS: '127.0.0.1', WEBHOOK_RETRY_SCHEDULE: '0s,500ms,1s,2s,5s', WEBHOOK_ATTEMPT_TIMEOUT: '60s', WEBHOOK_RELAY_INTERVAL: '50ms' },
  });
  workers.push(await startWorkerProcess(system));
});

after(async () => {
  for (const w of workers) await w.kill();
  await system?.stop();
  await receiver.stop();
});

test('SIGKILL mid-delivery: the deliveries in flight are sent again with the same id by the next worker, none lost', { timeout: 180_000 }, async () => {
  const tenant = await createTenant(system, 'Webhook kills tenant');
  const created = await api(system, 'POST', '/v1/webhook-endpoints', { key: tenant.apiKey, body: { url: receiver.url, events: ['webhook.test'] } });
  assert.equal(created.status, 201, created.text);
  const endpoint = created.json as { id: string; secret: string };
  receiver.secrets = [endpoint.secret];
  receiver.answers = Array.from({ length: 4 }, () => ({ status: 204, delayMs: HOLD_MS }));

  const eventIds: string[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const sent = await api(system, 'POST', `/v1/webhook-endpoints/${endpoint.id}/test`, { key: tenant.apiKey });
    assert.equal(sent.status, 202, sent.text);
    eventIds.push(sent.json.eventId);
  }
  // Four requests are held by the receiver, unanswered: those deliveries are mid-attempt in the worker.
  await waitFor('four deliveries held by the receiver', async () => receiver.received.length >= 4, 60_000);
  const inFlight = receiver.received.slice(0, 4).map((r) => r.id);
  await workers[0]!.kill('SIGKILL');
  const receivedAtKill = receiver.received.length;

  workers.push(await startWorkerProcess(system));
  const statuses = async () =>
    system.db.selectFrom('webhook_deliveries').select(['event_id', 'status', 'attempts']).where('endpoint_id', '=', endpoint.id).execute();
  const done = await waitFor(
    'every delivery succeeded',
    async () => {
      const rows = await statuses();
      return rows.length === EVENTS && rows.every((r) => r.status === 'succeeded') && rows;
    },
    120_000,
  );
  assert.ok(receiver.received.length > receivedAtKill, 'the new worker delivered');

  // None lost: every event arrived, verified, and was answered 2xx at least once.
  for (const id of eventIds) {
    const copies = receiver.received.filter((r) => r.id === id);
    assert.ok(copies.length >= 1, `event ${id} arrived`);
    assert.ok(
      copies.every((c) => c.verifiedBy.includes(0)),
      `every copy of ${id} verifies`,
    );
  }
  // The ones in flight at the kill were sent again with the same id, each copy signed for its own timestamp.
  for (const id of inFlight) {
    const copies = receiver.received.filter((r) => r.id === id);
    assert.ok(copies.length >= 2, `event ${id}, in flight at the kill, was sent again (${copies.length} copies)`);
    assert.equal(new Set(copies.map((c) => c.signatures.join(' '))).size, copies.length, 'each attempt signed afresh');
  }
  // One delivery per event, whatever the retries.
  assert.deepEqual(done.map((r) => r.event_id).sort(), [...eventIds].sort());
});
