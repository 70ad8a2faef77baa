import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createLogger } from '../../src/logger';
import { WEBHOOK_EVENT_EXAMPLES } from '../../src/webhooks/eventExamples';
import { startWebhookRelay } from '../../src/webhooks/relay';
import { webhookDeliveryWorkflowId } from '../../src/workflows/webhookDelivery';
import { api, connectAndSync, createTenant, followConsent, startSystem, waitFor, waitForSync, type System } from '../helpers/system';
import { WebhookReceiver } from '../helpers/webhookReceiver';

/**
 * Signed outbound webhooks (README, "Webhooks") against a real receiver that verifies every delivery with the
 * `standardwebhooks` package. Time is compressed: attempts 0 s, 300 ms, 600 ms, 1 s, 1 s apart.
 */
let system: System;
let tenant: { id: string; apiKey: string };
let other: { id: string; apiKey: string };
const receiver = new WebhookReceiver();

before(async () => {
  await receiver.start();
  system = await startSystem({
    env: {
      WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
      WEBHOOK_RETRY_SCHEDULE: '0s,300ms,600ms,1s,1s',
      WEBHOOK_ATTEMPT_TIMEOUT: '2s',
      WEBHOOK_RELAY_INTERVAL: '50ms',
    },
  });
  tenant = await createTenant(system, 'Webhook tenant');
  other = await createTenant(system, 'Another tenant');
});
after(async () => {
  await system?.stop();
  await receiver.stop();
});

const create = (key: string, body: unknown) => api(system, 'POST', '/v1/webhook-endpoints', { key, body });

async function newEndpoint(events?: string[]) {
  const res = await create(tenant.apiKey, { url: receiver.url, ...(events ? { events } : {}) });
  assert.equal(res.status, 201, res.text);
  return res.json as { id: string; secret: string };
}

async function deliveries(endpointId: string) {
  const res = await api(system, 'GET', `/v1/webhook-endpoints/${endpointId}/deliveries`, { key: tenant.apiKey });
  assert.equal(res.status, 200, res.text);
  return res.json.deliveries as Array<{
    id: string;
    eventId: string;
    type: string;
    status: string;
    attempts: Array<{ statusCode: number | null; error: string | null }>;
  }>;
}

describe('endpoints', () => {
  test('created with a whsec_ secret shown once and stored encrypted; another tenant gets 404; bad input is a 400 naming the field', async () => {
    const created = await create(tenant.apiKey, { url: receiver.url, description: 'ops', events: ['sync.succeeded'] });
    assert.equal(created.status, 201, created.text);
    assert.match(created.json.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const shown = await api(system, 'GET', `/v1/webhook-endpoints/${created.json.id}`, { key: tenant.apiKey });
    assert.equal(shown.status, 200);
    assert.equal(shown.json.secret, undefined, 'the secret is shown once');
    assert.deepEqual(shown.json.events, ['sync.succeeded']);
    const row = await system.db.selectFrom('webhook_endpoints').select('secret_enc').where('id', '=', created.json.id).executeTakeFirstOrThrow();
    assert.ok(!row.secret_enc.includes(created.json.secret.slice(6)), 'not stored in the clear');

    assert.equal((await api(system, 'GET', `/v1/webhook-endpoints/${created.json.id}`, { key: other.apiKey })).status, 404);
    assert.equal((await api(system, 'PATCH', `/v1/webhook-endpoints/${created.json.id}`, { key: other.apiKey, body: { enabled: false } })).status, 404);
    assert.equal((await api(system, 'DELETE', `/v1/webhook-endpoints/${created.json.id}`, { key: other.apiKey })).status, 404);
    const list = await api(system, 'GET', '/v1/webhook-endpoints', { key: other.apiKey });
    assert.deepEqual(list.json.endpoints, []);

    const unknownEvent = await create(tenant.apiKey, { url: receiver.url, events: ['sync.exploded'] });
    assert.equal(unknownEvent.status, 400);
    assert.equal(unknownEvent.json.errors[0].name, 'events.0');
    const noUrl = await create(tenant.apiKey, { events: ['sync.succeeded'] });
    assert.equal(noUrl.status, 400);
    assert.equal(noUrl.json.errors[0].name, 'url');
    const emptyPatch = await api(system, 'PATCH', `/v1/webhook-endpoints/${created.json.id}`, { key: tenant.apiKey, body: {} });
    assert.equal(emptyPatch.status, 400);
    assert.equal((await api(system, 'DELETE', `/v1/webhook-endpoints/${created.json.id}`, { key: tenant.apiKey })).status, 204);
  });

  test('SSRF: loopback, private, link-local and metadata addresses, names resolving there, and plain http are refused at creation', async () => {
    const before = await system.db
      .selectFrom('webhook_endpoints')
      .select(sql<number>`count(*)::int`.as('n'))
      .executeTakeFirstOrThrow();
    for (const url of [
      'https://localhost/hooks',
      'https://127.0.0.2/hooks',
      'https://10.1.2.3/hooks',
      'https://172.16.0.1/hooks',
      'https://192.168.1.1/hooks',
      'https://169.254.169.254/latest/meta-data',
      'https://[::1]/hooks',
      'https://[fd00::1]/hooks',
      'https://[::ffff:127.0.0.1]/hooks',
      'https://0.0.0.0/hooks',
      'http://example.com/hooks',
      'https://user:pw@example.com/hooks',
      'not a url',
    ]) {
      const res = await create(tenant.apiKey, { url });
      assert.equal(res.status, 400, `${url}: ${res.text}`);
      assert.equal(res.json.errors[0].name, 'url', url);
    }
    const after = await system.db
      .selectFrom('webhook_endpoints')
      .select(sql<number>`count(*)::int`.as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(after.n, before.n, 'nothing stored');
  });

  test('SSRF at connection time: a name that resolves to loopback when sent to is refused, and nothing reaches it', async () => {
    // As if `localhost` had resolved to a public address at creation (DNS rebinding): stored as is.
    const created = await newEndpoint();
    await system.db
      .updateTable('webhook_endpoints')
      .set({ url: `https://localhost:${receiver.port}/hooks` })
      .where('id', '=', created.id)
      .execute();
    const count = receiver.received.length;
    const sent = await api(system, 'POST', `/v1/webhook-endpoints/${created.id}/test`, { key: tenant.apiKey });
    assert.equal(sent.status, 202, sent.text);
    const attempts = await waitFor('the first attempt', async () =>
      (await deliveries(created.id)).find((d) => d.id === sent.json.deliveryId && d.attempts.length > 0),
    );
    assert.match(attempts.attempts[0]!.error ?? '', /refused: localhost resolves to (127\.0\.0\.1|::1)/);
    assert.equal(attempts.attempts[0]!.statusCode, null);
    assert.equal(receiver.received.length, count, 'the receiver got nothing');
    await api(system, 'DELETE', `/v1/webhook-endpoints/${created.id}`, { key: tenant.apiKey });
  });
});

/** A series of the worker's metrics (the system's registry), 0 before its first observation; `x_count` is histogram x's count. */
async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const found = system.metrics.registry.getSingleMetric(name.replace(/_count$/, ''));
  assert.ok(found, `metric ${name}`);
  const { values } = await found.get();
  const series = values.filter((v) => ((v as { metricName?: string }).metricName ?? name) === name);
  return series.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))?.value ?? 0;
}

describe('delivery', () => {
  test('webhook.test is delivered, verified by standardwebhooks, and recorded with its attempt', async () => {
    const endpoint = await newEndpoint(['webhook.test']);
    receiver.secrets = [endpoint.secret];
    const sent = await api(system, 'POST', `/v1/webhook-endpoints/${endpoint.id}/test`, { key: tenant.apiKey });
    assert.equal(sent.status, 202);
    const got = await waitFor('the test event', async () => receiver.received.find((r) => r.id === sent.json.eventId));
    assert.deepEqual(got.verifiedBy, [0]);
    assert.equal(got.body.type, 'webhook.test');
    assert.deepEqual(got.body.data, { endpointId: endpoint.id });
    const recorded = await waitFor('the delivery recorded', async () => (await deliveries(endpoint.id)).find((d) => d.status === 'succeeded'));
    assert.equal(recorded.attempts[0]!.statusCode, 204);
    await api(system, 'DELETE', `/v1/webhook-endpoints/${endpoint.id}`, { key: tenant.apiKey });
  });

  test('500s, a 429 with Retry-After and a receiver that is down are retried with the same webhook-id, re-signed each time', async () => {
    const endpoint = await newEndpoint(['webhook.test']);
    receiver.secrets = [endpoint.secret];
    receiver.answers = [{ status: 500 }, { status: 429, headers: { 'retry-after': '2' } }, { status: 503 }];
    const before = {
      retries: await metric('webhook_delivery_attempts_total', { outcome: 'retry' }),
      delivered: await metric('webhook_deliveries_total', { outcome: 'delivered' }),
      lags: await metric('webhook_delivery_lag_seconds_count'),
    };
    const sent = await api(system, 'POST', `/v1/webhook-endpoints/${endpoint.id}/test`, { key: tenant.apiKey });
    const copies = await waitFor('four attempts', async () => {
      const mine = receiver.received.filter((r) => r.id === sent.json.eventId);
      return mine.length >= 4 && mine;
    });
    assert.ok(
      copies.every((c) => c.verifiedBy.includes(0)),
      'every attempt verifies',
    );
    assert.ok(copies[2]!.at - copies[1]!.at >= 1_900, `Retry-After 2 s honoured (${copies[2]!.at - copies[1]!.at} ms)`);
    const delivered = await waitFor('succeeded', async () => (await deliveries(endpoint.id)).find((d) => d.status === 'succeeded'));
    assert.deepEqual(
      delivered.attempts.map((a) => a.statusCode),
      [500, 429, 503, 204],
    );
    // In /metrics: three retried attempts, one delivery, its lag (commit to 2xx) at least the Retry-After.
    assert.equal(await metric('webhook_delivery_attempts_total', { outcome: 'retry' }), before.retries + 3);
    assert.equal(await metric('webhook_deliveries_total', { outcome: 'delivered' }), before.delivered + 1);
    assert.equal(await metric('webhook_delivery_lag_seconds_count'), before.lags + 1);
    const labels = (await system.metrics.registry.getSingleMetric('webhook_delivery_attempts_total')!.get()).values.flatMap((v) => Object.keys(v.labels));
    assert.deepEqual([...new Set(labels)], ['outcome'], 'no tenant or endpoint ids in the labels');

    // Down: connection refused, then back on the same port before the schedule runs out.
    const port = receiver.port;
    await receiver.stop();
    const again = await api(system, 'POST', `/v1/webhook-endpoints/${endpoint.id}/test`, { key: tenant.apiKey });
    await waitFor('a failed attempt', async () => (await deliveries(endpoint.id)).find((d) => d.eventId === again.json.eventId && d.attempts.length >= 1));
    await receiver.start(port);
    await waitFor('delivered after the receiver came back', async () => receiver.received.find((r) => r.id === again.json.eventId));
    const record = await waitFor('recorded', async () =>
      (await deliveries(endpoint.id)).find((d) => d.eventId === again.json.eventId && d.status === 'succeeded'),
    );
    assert.match(record.attempts[0]!.error ?? '', /could not connect/);
    await api(system, 'DELETE', `/v1/webhook-endpoints/${endpoint.id}`, { key: tenant.apiKey });
  });

  test("the relay makes the first attempt itself: a delivered event's workflow makes none; a receiver too slow for it is retried by the workflow from attempt 2", async () => {
    const endpoint = await newEndpoint(['webhook.test']);
    receiver.secrets = [endpoint.secret];
    const historyOf = async (deliveryId: string) => {
      const handle = system.temporal.workflow.getHandle(webhookDeliveryWorkflowId(deliveryId));
      const result = await handle.result();
      const { events } = await handle.fetchHistory();
      return { result, attemptsByWorkflow: (events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).length };
    };

    const fast = await api(system, 'POST', `/v1/webhook-endpoints/${endpoint.id}/test`, { key: tenant.apiKey });
    await waitFor('the event', async () => receiver.received.find((r) => r.id === fast.json.eventId));
    const fastDelivery = await waitFor('recorded', async () =>
      (await deliveries(endpoint.id)).find((d) => d.eventId === fast.json.eventId && d.status === 'succeeded'),
    );
    assert.deepEqual(await historyOf(fastDelivery.id), { result: 'delivered', attemptsByWorkflow: 0 });

    // Answers after 2.5 s: past the relay's cut-off (min(3 s, WEBHOOK_ATTEMPT_TIMEOUT = 2 s)), so attempt 1
    // fails there; the workflow's attempt 2 is answered at once.
    receiver.answers = [{ status: 204, delayMs: 2_500 }];
    const slow = await api(system, 'POST', `/v1/webhook-endpoints/${endpoint.id}/test`, { key: tenant.apiKey });
    const slowDelivery = await waitFor('delivered by the workflow', async () =>
      (await deliveries(endpoint.id)).find((d) => d.eventId === slow.json.eventId && d.status === 'succeeded'),
    );
    assert.deepEqual(
      slowDelivery.attempts.map((a) => [a.statusCode, a.error]),
      [
        [null, 'no answer within 2000 ms'],
        [204, null],
      ],
    );
    assert.deepEqual(await historyOf(slowDelivery.id), { result: 'delivered', attemptsByWorkflow: 1 });
    const copies = receiver.received.filter((r) => r.id === slow.json.eventId);
    assert.equal(copies.length, 2, 'both attempts carry the same webhook-id');
    await api(system, 'DELETE', `/v1/webhook-endpoints/${endpoint.id}`, { key: tenant.apiKey });
  });

  test("two relays at once (two workers) never both make an event's first attempt", async () => {
    const endpoint = await newEndpoint(['webhook.test']);
    receiver.secrets = [endpoint.secret];
    const second = startWebhookRelay({
      db: system.db,
      box: system.box,
      metrics: system.metrics,
      temporal: system.temporal,
      taskQueue: system.config.temporal.taskQueue,
      settings: system.config.webhooks,
      logger: createLogger('silent'),
    });
    try {
      const sent = await Promise.all(
        Array.from({ length: 40 }, () => api(system, 'POST', `/v1/webhook-endpoints/${endpoint.id}/test`, { key: tenant.apiKey })),
      );
      const ids = new Set(sent.map((r) => r.json.eventId as string));
      await waitFor('every event delivered and recorded', async () => {
        const mine = (await deliveries(endpoint.id)).filter((d) => ids.has(d.eventId));
        return mine.length === ids.size && mine.every((d) => d.status === 'succeeded') && mine;
      });
      const received = receiver.received.filter((r) => ids.has(r.id));
      assert.equal(received.length, ids.size, 'each event arrived once');
      assert.equal(new Set(received.map((r) => r.id)).size, ids.size);
    } finally {
      await second.stop();
    }
    await api(system, 'DELETE', `/v1/webhook-endpoints/${endpoint.id}`, { key: tenant.apiKey });
  });

  test('410 disables the endpoint; events meanwhile are held and delivered once it is enabled again; replay resends with the same id', async () => {
    const endpoint = await newEndpoint(['webhook.test']);
    receiver.secrets = [endpoint.secret];
    receiver.answers = [{ status: 410 }];
    const first = await api(system, 'POST', `/v1/webhook-endpoints/${endpoint.id}/test`, { key: tenant.apiKey });
    const disabled = await waitFor('disabled', async () => {
      const res = await api(system, 'GET', `/v1/webhook-endpoints/${endpoint.id}`, { key: tenant.apiKey });
      return res.json.enabled === false && res.json;
    });
    assert.equal(disabled.disabledReason, 'the receiver answered 410 Gone');
    const held = await api(system, 'POST', `/v1/webhook-endpoints/${endpoint.id}/test`, { key: tenant.apiKey });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(receiver.received.filter((r) => r.id === held.json.eventId).length, 0, 'nothing sent while disabled');
    assert.equal((await deliveries(endpoint.id)).find((d) => d.id === held.json.deliveryId)?.status, 'held');

    const enabled = await api(system, 'PATCH', `/v1/webhook-endpoints/${endpoint.id}`, { key: tenant.apiKey, body: { enabled: true } });
    assert.equal(enabled.status, 200);
    await waitFor('the held event delivered', async () => receiver.received.find((r) => r.id === held.json.eventId));
    const failed = (await deliveries(endpoint.id)).find((d) => d.id === first.json.deliveryId)!;
    assert.equal(failed.status, 'failed');

    const replayed = await api(system, 'POST', `/v1/webhook-endpoints/${endpoint.id}/deliveries/${first.json.deliveryId}/replay`, { key: tenant.apiKey });
    assert.equal(replayed.status, 202, replayed.text);
    await waitFor('the replay', async () => receiver.received.find((r) => r.id === first.json.eventId && r.verifiedBy.length === 1));
    await api(system, 'DELETE', `/v1/webhook-endpoints/${endpoint.id}`, { key: tenant.apiKey });
  });

  test('every attempt failing disables the endpoint with its reason', async () => {
    const endpoint = await newEndpoint(['webhook.test']);
    receiver.answers = Array.from({ length: 5 }, () => ({ status: 500 }));
    const failedBefore = await metric('webhook_deliveries_total', { outcome: 'failed' });
    await api(system, 'POST', `/v1/webhook-endpoints/${endpoint.id}/test`, { key: tenant.apiKey });
    const disabled = await waitFor(
      'disabled after five attempts',
      async () => {
        const res = await api(system, 'GET', `/v1/webhook-endpoints/${endpoint.id}`, { key: tenant.apiKey });
        return res.json.enabled === false && res.json;
      },
      30_000,
    );
    assert.equal(disabled.disabledReason, '5 attempts of one delivery failed');
    assert.equal((await deliveries(endpoint.id))[0]!.status, 'failed');
    assert.equal(await metric('webhook_deliveries_total', { outcome: 'failed' }), failedBefore + 1);
    receiver.answers = [];
    await api(system, 'DELETE', `/v1/webhook-endpoints/${endpoint.id}`, { key: tenant.apiKey });
  });

  test('secret rotation: a receiver knowing only the old, or only the new, secret verifies during the overlap', async () => {
    const endpoint = await newEndpoint(['webhook.test']);
    const rotated = await api(system, 'POST', `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, { key: tenant.apiKey });
    assert.equal(rotated.status, 201);
    assert.notEqual(rotated.json.secret, endpoint.secret);
    assert.ok(rotated.json.previousSecretUntil);
    receiver.secrets = [endpoint.secret, rotated.json.secret];
    const sent = await api(system, 'POST', `/v1/webhook-endpoints/${endpoint.id}/test`, { key: tenant.apiKey });
    const got = await waitFor('delivered', async () => receiver.received.find((r) => r.id === sent.json.eventId));
    assert.equal(got.signatures.length, 2, 'two signatures during the overlap');
    assert.deepEqual(got.verifiedBy, [0, 1], 'each secret alone verifies');
    await api(system, 'DELETE', `/v1/webhook-endpoints/${endpoint.id}`, { key: tenant.apiKey });
  });
});

describe('events', () => {
  test('a connect and a sync announce integration.connected, status changes, sync.succeeded and utilization.changed, each as documented', async () => {
    const endpoint = await newEndpoint();
    receiver.secrets = [endpoint.secret];
    system.sandbox.createWorkspace({ subdomain: 'hooked', users: 40, ticketEvents: 200, seed: 5, consentMode: 'allow' });
    const created = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: 'hooked' } });
    assert.equal(created.status, 201, created.text);
    assert.equal((await followConsent(created.json.authorizeUrl)).status, 200);
    const run = await waitForSync(system, created.json.id);
    assert.equal(run.status, 'succeeded');
    const mine = (type: string) => receiver.of(type).filter((r) => r.body.data.integrationId === created.json.id);
    for (const type of ['integration.connected', 'integration.status_changed', 'sync.succeeded', 'utilization.changed']) {
      const got = await waitFor(type, async () => mine(type)[0]);
      assert.deepEqual(got.verifiedBy, [0], `${type} verifies`);
      assert.deepEqual(
        Object.keys(got.body.data).sort(),
        Object.keys(WEBHOOK_EVENT_EXAMPLES[type as keyof typeof WEBHOOK_EVENT_EXAMPLES].data).sort(),
        `${type} carries what the document says`,
      );
      assert.ok(Buffer.byteLength(JSON.stringify(got.body)) < 20_000);
    }
    const succeeded = mine('sync.succeeded')[0]!;
    assert.equal(succeeded.body.data.syncRunId, run.id);
    assert.equal(succeeded.body.data.usersSynced, run.users_synced);
    assert.equal(mine('integration.status_changed').at(-1)!.body.data.status, 'connected');
    const utilization = mine('utilization.changed')[0]!;
    assert.equal(utilization.body.data.previous, null, 'the first sync has nothing to compare with');
    assert.ok(!JSON.stringify(receiver.received.map((r) => r.body)).includes('@'), 'no email addresses in any event');
    const ids = receiver.received.filter((r) => r.body.data.integrationId === created.json.id).map((r) => r.id);
    assert.equal(ids.length, new Set(ids).size, 'a healthy receiver gets each event once');
    // Operators find a delivery by its event type and integration in the Temporal Web UI.
    const query = `WorkflowType = "webhookDelivery" AND WebhookEventType = "sync.succeeded" AND IntegrationId = "${created.json.id}" AND TenantId = "${tenant.id}"`;
    const found = await waitFor('the delivery workflow by its search attributes', async () => {
      const executions = [];
      for await (const e of system.temporal.workflow.list({ query })) executions.push(e);
      return executions.length === 1 && executions;
    });
    assert.match(found[0]!.workflowId, /^webhook-delivery-/);
    await api(system, 'DELETE', `/v1/webhook-endpoints/${endpoint.id}`, { key: tenant.apiKey });
  });

  test('a change that is rolled back sends nothing; a tenant without endpoints stores no events', async () => {
    const endpoint = await newEndpoint(['integration.status_changed']);
    const integration = await system.db.selectFrom('integrations').select(['id', 'status']).where('tenant_id', '=', tenant.id).executeTakeFirstOrThrow();
    const count = async () =>
      (
        await system.db
          .selectFrom('webhook_events')
          .select(sql<number>`count(*)::int`.as('n'))
          .executeTakeFirstOrThrow()
      ).n;
    const before = await count();
    await system.db
      .transaction()
      .execute(async (trx) => {
        await trx.updateTable('integrations').set({ status: 'failed' }).where('id', '=', integration.id).execute();
        throw new Error('roll back');
      })
      .catch(() => undefined);
    assert.equal(await count(), before, 'no event for a rolled-back change');
    const otherIntegration = await system.db
      .insertInto('integrations')
      .values({ tenant_id: other.id, workspace: 'quiet', status: 'awaiting_consent', error: null, zendesk_user_id: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    await system.db.updateTable('integrations').set({ status: 'failed' }).where('id', '=', otherIntegration.id).execute();
    assert.equal(await count(), before, 'nothing stored for a tenant without endpoints');
    await api(system, 'DELETE', `/v1/webhook-endpoints/${endpoint.id}`, { key: tenant.apiKey });
  });

  test('a grant days from lapsing that cannot be renewed announces integration.grant_expiring once per expiry', { timeout: 120_000 }, async () => {
    const ws = system.sandbox.createWorkspace({ subdomain: 'lapsing', users: 20, ticketEvents: 40, seed: 6, consentMode: 'allow' });
    const { integrationId } = await connectAndSync(system, tenant.apiKey, 'lapsing');
    const endpoint = await newEndpoint(['integration.grant_expiring']);
    receiver.secrets = [endpoint.secret];
    const expiresAt = new Date(Date.now() + 2 * 86_400_000 - 60_000);
    await system.db.updateTable('oauth_credentials').set({ refresh_expires_at: expiresAt }).where('integration_id', '=', integrationId).execute();
    const syncFailingRefresh = async () => {
      // The keep-alive refresh at the start of the sync is refused, so the grant still lapses in two days.
      ws.injectFaults([{ kind: '503', path: '/oauth/tokens', retryAfterSeconds: null }]);
      const previous = (await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', integrationId).execute()).map((r) => r.id);
      assert.equal((await api(system, 'POST', `/v1/integrations/${integrationId}/sync`, { key: tenant.apiKey })).status, 202);
      assert.equal((await waitForSync(system, integrationId, { notIds: previous, timeoutMs: 60_000 })).status, 'succeeded');
    };
    await syncFailingRefresh();
    const mine = () => receiver.of('integration.grant_expiring').filter((r) => r.body.data.integrationId === integrationId);
    const got = await waitFor('integration.grant_expiring', async () => mine()[0]);
    assert.deepEqual(got.verifiedBy, [0]);
    assert.deepEqual(got.body.data, { integrationId, workspace: 'lapsing', refreshExpiresAt: expiresAt.toISOString(), daysLeft: 1 });
    assert.deepEqual(Object.keys(got.body.data).sort(), Object.keys(WEBHOOK_EVENT_EXAMPLES['integration.grant_expiring'].data).sort());

    // The next sync of those last days warns in the log again, but the tenant was told already.
    await syncFailingRefresh();
    const stored = await system.db
      .selectFrom('webhook_events')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('type', '=', 'integration.grant_expiring')
      .where(sql<string>`payload->'data'->>'integrationId'`, '=', integrationId)
      .executeTakeFirstOrThrow();
    assert.equal(stored.n, 1, 'announced once for this expiry');
    assert.equal(mine().length, 1);
    await api(system, 'DELETE', `/v1/webhook-endpoints/${endpoint.id}`, { key: tenant.apiKey });
  });
});
