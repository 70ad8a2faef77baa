import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { createDisconnectActivities } from '../../src/activities/disconnect';
import { loadConfig } from '../../src/config';
import { SecretBox } from '../../src/crypto/secretBox';
import type { IntegrationStatus } from '../../src/db/tables';
import { createLogger } from '../../src/logger';
import { createMetrics } from '../../src/observability/metrics';
import { FailureType } from '../../src/shared/failureTypes';
import { createTemporalClient } from '../../src/temporal/client';
import { createProcessRateLimits } from '../../src/zendesk/rateLimit/rateLimiter';
import { createTestIntegration, testDb, TEST_ENCRYPTION_KEY } from '../helpers/db';

/**
 * The destructive disconnect activities, called directly against the run's PostgreSQL: they act only for an
 * integration the database shows as disconnecting or disconnected. Anyone who can reach Temporal could start
 * `zendeskDisconnect` (or its activities) for any integration id; the workflow's own first step marks the
 * integration disconnecting, so the guard that matters is in the activities themselves.
 */
const db = testDb();
let temporal: Client;

before(async () => {
  temporal = await createTemporalClient(loadConfig({ TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS! }));
});
after(async () => {
  await temporal?.connection.close();
});

function activities() {
  const config = loadConfig(
    {
      TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS!,
      ENCRYPTION_KEY: TEST_ENCRYPTION_KEY.toString('base64'),
      // What a worker's configuration requires (nothing here calls Zendesk or connects with it).
      DATABASE_URL: process.env.DATABASE_URL!,
      ZENDESK_CLIENT_ID: 'unused',
      ZENDESK_CLIENT_SECRET: 'unused',
    },
    'worker',
  );
  const logger = createLogger('error', new Writable({ write: (_c, _e, cb) => cb() }));
  return createDisconnectActivities({
    db,
    box: new SecretBox(TEST_ENCRYPTION_KEY),
    config,
    logger,
    temporal,
    metrics: createMetrics(),
    rateLimits: createProcessRateLimits(db),
  });
}

async function integrationWithData(status: IntegrationStatus) {
  const { integrationId } = await createTestIntegration(db, `guard-${status}-${randomUUID().slice(0, 8)}`, status);
  await db
    .insertInto('zendesk_users')
    .values([1, 2, 3].map((id) => ({ integration_id: integrationId, id, name: `User ${id}`, email: `u${id}@example.com`, role: 'agent', deleted: false })))
    .execute();
  await db
    .insertInto('ticket_events')
    .values([10, 11].map((id) => ({ integration_id: integrationId, event_id: id, ticket_id: 1, user_id: 1, occurred_at: new Date() })))
    .execute();
  await db
    .insertInto('oauth_credentials')
    .values({
      integration_id: integrationId,
      access_token_enc: 'enc-access',
      refresh_token_enc: 'enc-refresh',
      access_expires_at: new Date(Date.now() + 3_600_000),
      refresh_expires_at: null,
      scope: 'read',
    })
    .execute();
  return integrationId;
}

async function rowsOf(integrationId: string) {
  const count = async (table: 'zendesk_users' | 'ticket_events' | 'oauth_credentials') =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .where('integration_id', '=', integrationId)
          .executeTakeFirstOrThrow()
      ).n,
    );
  return { users: await count('zendesk_users'), events: await count('ticket_events'), tokens: await count('oauth_credentials') };
}

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const activityEnv = () => new MockActivityEnvironment({}, { logger: quiet });

/** Runs an activity as the worker would (heartbeats go to a mock context) and returns its failure, if any. */
async function failureOf(fn: () => Promise<unknown>): Promise<ApplicationFailure | undefined> {
  try {
    await activityEnv().run(fn);
    return undefined;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `an ApplicationFailure, not ${String(err)}`);
    return err;
  }
}

describe('destructive activities refuse unless the database agrees', () => {
  for (const status of ['connected', 'needs_reauth', 'awaiting_consent', 'failed'] as const) {
    test(`${status}: purge, token deletion and schedule deletion refuse, non-retryable, and delete nothing`, async () => {
      const id = await integrationWithData(status);
      const acts = activities();
      const before = await rowsOf(id);
      assert.deepEqual(before, { users: 3, events: 2, tokens: 1 });
      const attempts: Array<[string, () => Promise<unknown>]> = [
        ['purgeSyncedDataSlice', () => acts.purgeSyncedDataSlice({ integrationId: id })],
        ['purgeSyncedData (legacy)', () => acts.purgeSyncedData({ integrationId: id })],
        ['revokeGrant', () => acts.revokeGrant({ integrationId: id })],
        ['revokeAndDeleteCredentials (legacy)', () => acts.revokeAndDeleteCredentials({ integrationId: id })],
        ['stopSyncing', () => acts.stopSyncing({ integrationId: id })],
        ['stopRunningSyncs (legacy)', () => acts.stopRunningSyncs({ integrationId: id })],
      ];
      for (const [name, attempt] of attempts) {
        const failure = await failureOf(attempt);
        assert.ok(failure, `${name} refused`);
        assert.equal(failure.nonRetryable, true, `${name}: never retried`);
        assert.equal(failure.type, FailureType.NotDisconnecting, name);
        assert.match(failure.message, new RegExp(`^Refused to .* of integration ${id}: it is ${status}, not disconnecting or disconnected\\.`), name);
        assert.match(failure.message, /nothing was changed/);
      }
      assert.deepEqual(await rowsOf(id), before, 'nothing was deleted');
      const row = await db.selectFrom('integrations').select('status').where('id', '=', id).executeTakeFirstOrThrow();
      assert.equal(row.status, status, 'and the status is untouched');
    });
  }

  test('disconnecting: the purge deletes the synced data', async () => {
    const id = await integrationWithData('disconnecting');
    const acts = activities();
    const result = await activityEnv().run(() => acts.purgeSyncedDataSlice({ integrationId: id }));
    assert.deepEqual(result, { done: true, deleted: 5 });
    assert.deepEqual(await rowsOf(id), { users: 0, events: 0, tokens: 1 });
  });

  test('disconnected (the legacy purge) deletes; an integration that no longer exists has nothing to delete', async () => {
    const id = await integrationWithData('disconnected');
    const acts = activities();
    assert.equal(await failureOf(() => acts.purgeSyncedData({ integrationId: id })), undefined);
    assert.deepEqual(await rowsOf(id), { users: 0, events: 0, tokens: 1 });
    const gone = randomUUID();
    assert.deepEqual(await activityEnv().run(() => acts.purgeSyncedDataSlice({ integrationId: gone })), { done: true, deleted: 0 });
  });
});
