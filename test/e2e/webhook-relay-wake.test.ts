import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, createTenant, startSystem, waitFor, type System } from '../helpers/system';
import { WebhookReceiver } from '../helpers/webhookReceiver';

/**
 * The relay is woken by the outbox's NOTIFY (its LISTEN connection, src/webhooks/relay.ts), not only by its
 * poll: with a 60 s poll interval, an event still arrives within seconds.
 */
let system: System;
const receiver = new WebhookReceiver();

before(async () => {
  await receiver.start();
  system = await startSystem({ env: { WEBHOOK_ALLOW_HOSTS: '127.0.0.1', WEBHOOK_RELAY_INTERVAL: '60s' } });
});
after(async () => {
  await system?.stop();
  await receiver.stop();
});

test('a recorded delivery wakes the relay at once (60 s poll): the receiver has the event within seconds', async () => {
  const tenant = await createTenant(system, 'Relay wake tenant');
  const created = await api(system, 'POST', '/v1/webhook-endpoints', { key: tenant.apiKey, body: { url: receiver.url, events: ['webhook.test'] } });
  assert.equal(created.status, 201, created.text);
  receiver.secrets = [created.json.secret];
  // The relay's listener is up once its probe came back; the first look after start has happened by now too.
  await waitFor(
    'the relay listening',
    async () =>
      (
        await system.db
          .selectFrom('pg_stat_activity' as never)
          .select('pid' as never)
          .where('application_name' as never, '=', 'zendesk-worker-webhook-relay' as never)
          .execute()
      ).length > 0,
  );
  await new Promise((r) => setTimeout(r, 1_000));
  for (let i = 0; i < 3; i++) {
    const sentAt = Date.now();
    const sent = await api(system, 'POST', `/v1/webhook-endpoints/${created.json.id}/test`, { key: tenant.apiKey });
    assert.equal(sent.status, 202, sent.text);
    const got = await waitFor('the event', async () => receiver.received.find((r) => r.id === sent.json.eventId), 20_000);
    assert.ok(got.at - sentAt < 10_000, `arrived ${got.at - sentAt} ms after it was sent (the poll would take up to 60 s)`);
    assert.deepEqual(got.verifiedBy, [0]);
  }
});
