import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createHousekeepingActivities, type HousekeepingActivities } from '../../src/activities/housekeeping';
import { loadConfig, type HousekeepingSettings } from '../../src/config';
import { upsertZendeskUsers } from '../../src/db/repositories/zendeskUsers';
import type { NewZendeskUser } from '../../src/db/tables';
import { createLogger } from '../../src/logger';
import { createMetrics } from '../../src/observability/metrics';
import { reportDb } from '../../src/reports/tables';
import { ensureHousekeepingSchedule, housekeepingScheduleId } from '../../src/temporal/housekeepingSchedule';
import { housekeeping } from '../../src/workflows/housekeeping';
import { createTestIntegration, testDb } from '../helpers/db';
import { api, startSystem, waitFor, type System } from '../helpers/system';
import { startWorkerProcess } from '../helpers/workerProcess';

/**
 * Housekeeping, each rule against the run's real PostgreSQL (the activities in a mock activity context,
 * with the periods and batch size set here), then one run of the deployment's schedule on the real
 * Temporal dev server with a real worker, configured by environment. Periods are compressed by dating the
 * rows in the past; the batch size is tiny so every rule takes several batches.
 */

const db = testDb();
const DAY = 86_400_000;
const ago = (ms: number) => new Date(Date.now() - ms);

const SETTINGS: HousekeepingSettings = {
  intervalMs: undefined,
  batchSize: 3,
  activityRetentionMs: 400 * DAY,
  disconnectedDataRetentionMs: 30 * DAY,
  syncRunRetentionMs: 180 * DAY,
  syncRunRetentionRuns: 5,
  oauthFlowRetentionMs: DAY,
  rateLimitBlockRetentionMs: 3_600_000,
};

function activities(settings: Partial<HousekeepingSettings> = {}, metrics = createMetrics({ defaultMetrics: false })): HousekeepingActivities {
  // What a worker's configuration requires (housekeeping reads none of it).
  const required = {
    DATABASE_URL: process.env.DATABASE_URL!,
    ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    ZENDESK_CLIENT_ID: 'unused',
    ZENDESK_CLIENT_SECRET: 'unused',
  };
  const config = { ...loadConfig(required, 'worker'), housekeeping: { ...SETTINGS, ...settings } };
  const logger = createLogger('error', new Writable({ write: (_c, _e, cb) => cb() }));
  return createHousekeepingActivities({ db, config, logger, metrics, box: undefined as never, temporal: undefined as never, rateLimits: undefined as never });
}

/** Runs one rule as Temporal would: in an activity context (heartbeats recorded). */
async function runRule(rule: keyof HousekeepingActivities, opts: { settings?: Partial<HousekeepingSettings>; heartbeatDetails?: unknown } = {}) {
  const env = new MockActivityEnvironment(opts.heartbeatDetails === undefined ? {} : { heartbeatDetails: opts.heartbeatDetails });
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  const changed: number = await env.run(activities(opts.settings)[rule]);
  return { changed, beats };
}

async function user(integrationId: string, id: number, fields: Partial<NewZendeskUser> = {}) {
  await db
    .insertInto('zendesk_users')
    .values({ integration_id: integrationId, id, name: `User ${id}`, email: `user${id}@example.com`, role: 'agent', deleted: false, ...fields })
    .execute();
}

async function events(integrationId: string, rows: Array<{ id: number; user: number; at: Date }>) {
  await db
    .insertInto('ticket_events')
    .values(rows.map((r) => ({ integration_id: integrationId, event_id: r.id, ticket_id: 1, user_id: r.user, occurred_at: r.at })))
    .execute();
}

describe('rules against PostgreSQL', () => {
  test('oauth_flows: used and expired flows go after the retention; each live integration keeps its newest, without secrets', async () => {
    const live = await createTestIntegration(db, `hk-flows-${randomUUID()}`);
    const single = await createTestIntegration(db, `hk-flows-single-${randomUUID()}`, 'needs_reauth');
    const gone = await createTestIntegration(db, `hk-flows-gone-${randomUUID()}`, 'disconnected');
    const flow = async (integrationId: string, name: string, f: { created: Date; expires: Date; used?: Date; exchanged?: Date; secrets?: boolean }) => {
      const [row] = await db
        .insertInto('oauth_flows')
        .values({
          integration_id: integrationId,
          created_at: f.created,
          expires_at: f.expires,
          used_at: f.used ?? null,
          exchanged_at: f.exchanged ?? null,
          pkce_verifier_enc: f.secrets ? 'enc-verifier' : null,
          code_enc: f.secrets && f.used ? 'enc-code' : null,
        })
        .returning('id')
        .execute();
      return [name, row!.id] as const;
    };
    const flows = Object.fromEntries(
      await Promise.all([
        flow(live.integrationId, 'expiredLongAgo', { created: ago(4 * DAY), expires: ago(3 * DAY), secrets: true }),
        flow(live.integrationId, 'exchangedLongAgo', { created: ago(3 * DAY), expires: ago(3 * DAY - 1_800_000), used: ago(3 * DAY), exchanged: ago(3 * DAY) }),
        flow(live.integrationId, 'usedNeverExchanged', { created: ago(2.5 * DAY), expires: ago(2.5 * DAY - 1_800_000), used: ago(2.5 * DAY), secrets: true }),
        flow(live.integrationId, 'exchangedLate', { created: ago(2.2 * DAY), expires: ago(2 * DAY), used: ago(2.1 * DAY), exchanged: ago(3_600_000) }),
        flow(live.integrationId, 'expiredRecently', { created: ago(2 * DAY), expires: ago(60_000) }),
        flow(live.integrationId, 'open', { created: ago(60_000), expires: new Date(Date.now() + 1_800_000), secrets: true }),
        flow(single.integrationId, 'onlyFlow', { created: ago(10 * DAY), expires: ago(10 * DAY - 1_800_000), used: ago(10 * DAY), secrets: true }),
        flow(gone.integrationId, 'disconnectedNewest', { created: ago(5 * DAY), expires: ago(5 * DAY - 1_800_000) }),
      ]),
    );
    const { changed, beats } = await runRule('pruneOAuthFlows');
    const left = await db.selectFrom('oauth_flows').select(['id', 'pkce_verifier_enc', 'code_enc']).where('id', 'in', Object.values(flows)).execute();
    const leftIds = new Set(left.map((r) => r.id));
    const kept = Object.entries(flows)
      .filter(([, id]) => leftIds.has(id))
      .map(([name]) => name)
      .sort();
    assert.deepEqual(kept, ['exchangedLate', 'expiredRecently', 'onlyFlow', 'open']);
    const only = left.find((r) => r.id === flows.onlyFlow)!;
    assert.deepEqual([only.pkce_verifier_enc, only.code_enc], [null, null], 'the kept newest flow lost its secrets');
    assert.equal(left.find((r) => r.id === flows.open)!.pkce_verifier_enc, 'enc-verifier', 'a live flow keeps its verifier');
    assert.ok(changed >= 5, `${changed} flows deleted or scrubbed`);
    // Found by integration through their index (migration 20261204T090000_reconnect_attempts).
    const index = await db
      .selectFrom('pg_indexes' as never)
      .select('indexdef' as never)
      .where('indexname' as never, '=', 'oauth_flows_integration_created' as never)
      .executeTakeFirst();
    assert.match(String((index as { indexdef?: string } | undefined)?.indexdef), /ON public\.oauth_flows USING btree \(integration_id, created_at\)/);
    assert.ok(beats.length >= 2, 'heartbeats after each batch');
  });

  test("connect_sessions: Connect page links that expired longer ago than the flows' retention go", async () => {
    const tenant = await db.insertInto('tenants').values({ name: 'hk connect sessions' }).returning('id').executeTakeFirstOrThrow();
    const session = (name: string, expires: Date) =>
      db
        .insertInto('connect_sessions')
        .values({ tenant_id: tenant.id, token_hash: `${name}-${randomUUID()}`, workspace: null, return_url: null, allowed_origin: null, expires_at: expires })
        .returning('id')
        .executeTakeFirstOrThrow();
    const old = await Promise.all([1, 2, 3, 4].map((i) => session(`old${i}`, ago(2 * DAY))));
    const recent = await session('recent', ago(DAY / 2));
    const live = await session('live', new Date(Date.now() + 60_000));
    await runRule('pruneOAuthFlows');
    const left = await db.selectFrom('connect_sessions').select('id').where('tenant_id', '=', tenant.id).execute();
    assert.deepEqual(left.map((r) => r.id).sort(), [recent.id, live.id].sort());
    assert.equal(old.length, 4, 'more than one batch of 3');
  });

  test("view_sessions: utilization view links that expired longer ago than the flows' retention go", async () => {
    const tenant = await db.insertInto('tenants').values({ name: 'hk view sessions' }).returning('id').executeTakeFirstOrThrow();
    const integration = await db
      .insertInto('integrations')
      .values({ tenant_id: tenant.id, workspace: 'hk-view', status: 'connected', error: null, zendesk_user_id: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    const session = (name: string, expires: Date) =>
      db
        .insertInto('view_sessions')
        .values({ tenant_id: tenant.id, integration_id: integration.id, token_hash: `${name}-${randomUUID()}`, allowed_origin: null, expires_at: expires })
        .returning('id')
        .executeTakeFirstOrThrow();
    const old = await Promise.all([1, 2, 3, 4].map((i) => session(`old${i}`, ago(2 * DAY))));
    const recent = await session('recent', ago(DAY / 2));
    const live = await session('live', new Date(Date.now() + 60_000));
    await runRule('pruneOAuthFlows');
    const left = await db.selectFrom('view_sessions').select('id').where('tenant_id', '=', tenant.id).execute();
    assert.deepEqual(left.map((r) => r.id).sort(), [recent.id, live.id].sort());
    assert.equal(old.length, 4, 'more than one batch of 3');
  });

  test('zendesk_rate_limits: blocks that ended longer ago than the retention go', async () => {
    const workspace = `hk-limits-${randomUUID()}`;
    await db
      .insertInto('zendesk_rate_limits')
      .values([
        { workspace, bucket: 'ended-long-ago', blocked_until: ago(2 * 3_600_000) },
        { workspace, bucket: 'ended-recently', blocked_until: ago(600_000) },
        { workspace, bucket: 'current', blocked_until: new Date(Date.now() + 60_000) },
      ])
      .execute();
    await runRule('pruneRateLimitBlocks');
    const left = await db.selectFrom('zendesk_rate_limits').select('bucket').where('workspace', '=', workspace).orderBy('bucket').execute();
    assert.deepEqual(
      left.map((r) => r.bucket),
      ['current', 'ended-recently'],
    );
  });

  test('sync_runs: per integration the newest N or the last D days, whichever keeps more, never a running one', async () => {
    const run = (integrationId: string, daysAgo: number, status: 'running' | 'succeeded' | 'failed' = 'succeeded') => ({
      integration_id: integrationId,
      workflow_id: `zendesk-sync-${integrationId}-${randomUUID()}`,
      run_id: randomUUID(),
      status,
      started_at: ago(daysAgo * DAY),
      finished_at: status === 'running' ? null : ago(daysAgo * DAY - 60_000),
      error: null,
    });
    const busy = await createTestIntegration(db, `hk-runs-busy-${randomUUID()}`);
    const recent = await createTestIntegration(db, `hk-runs-recent-${randomUUID()}`);
    const few = await createTestIntegration(db, `hk-runs-few-${randomUUID()}`);
    // busy: 3 runs this week, 9 old ones (200–208 days), the oldest still `running` (an orphan).
    const busyRuns = [1, 2, 3]
      .map((d) => run(busy.integrationId, d))
      .concat(
        [200, 201, 202, 203, 204, 205, 206, 207].map((d) => run(busy.integrationId, d, d % 2 ? 'failed' : 'succeeded')),
        [run(busy.integrationId, 208, 'running')],
      );
    await db.insertInto('sync_runs').values(busyRuns).execute();
    // recent: 12 runs, all within the 180 days: the days rule keeps more.
    await db
      .insertInto('sync_runs')
      .values(Array.from({ length: 12 }, (_, i) => run(recent.integrationId, 10 + i * 10)))
      .execute();
    // few: 3 old runs, fewer than N: the count rule keeps them all.
    await db
      .insertInto('sync_runs')
      .values([300, 400, 500].map((d) => run(few.integrationId, d)))
      .execute();

    const { changed } = await runRule('pruneSyncRuns');
    const left = async (integrationId: string) =>
      (
        await db.selectFrom('sync_runs').select(['started_at', 'status']).where('integration_id', '=', integrationId).orderBy('started_at', 'desc').execute()
      ).map((r) => `${Math.round((Date.now() - r.started_at.getTime()) / DAY)}${r.status === 'running' ? ' running' : ''}`);
    assert.deepEqual(await left(busy.integrationId), ['1', '2', '3', '200', '201', '208 running']);
    assert.equal((await left(recent.integrationId)).length, 12);
    assert.equal((await left(few.integrationId)).length, 3);
    assert.ok(changed >= 6);
  });

  test('disconnected integrations: synced users, events and checkpoints purged after the retention, counted from the disconnect', async () => {
    const longAgo = await createTestIntegration(db, `hk-gone-${randomUUID()}`);
    const lately = await createTestIntegration(db, `hk-gone-lately-${randomUUID()}`);
    const connected = await createTestIntegration(db, `hk-kept-${randomUUID()}`);
    for (const { integrationId } of [longAgo, lately, connected]) {
      for (let id = 1; id <= 7; id++) await user(integrationId, id);
      await events(
        integrationId,
        Array.from({ length: 8 }, (_, i) => ({ id: i + 1, user: (i % 7) + 1, at: ago(i * DAY) })),
      );
      await db.insertInto('sync_checkpoints').values({ integration_id: integrationId, stream: 'users', position: 'cursor' }).execute();
      await db
        .insertInto('sync_runs')
        .values({ integration_id: integrationId, workflow_id: `w-${integrationId}`, run_id: 'r', status: 'succeeded', error: null })
        .execute();
    }
    // The trigger stamps the disconnect; tests date it in the past.
    for (const [{ integrationId }, days] of [
      [longAgo, 31],
      [lately, 29],
    ] as const) {
      await db.updateTable('integrations').set({ status: 'disconnected' }).where('id', '=', integrationId).execute();
      const row = await db.selectFrom('integrations').select('disconnected_at').where('id', '=', integrationId).executeTakeFirstOrThrow();
      assert.ok(row.disconnected_at && Date.now() - row.disconnected_at.getTime() < 60_000, 'disconnected_at set by the trigger');
      await db
        .updateTable('integrations')
        .set({ disconnected_at: ago(days * DAY) })
        .where('id', '=', integrationId)
        .execute();
    }
    const { changed, beats } = await runRule('purgeDisconnectedData');
    const counts = async (integrationId: string) => ({
      users: (await db.selectFrom('zendesk_users').select('id').where('integration_id', '=', integrationId).execute()).length,
      events: (await db.selectFrom('ticket_events').select('event_id').where('integration_id', '=', integrationId).execute()).length,
      activity: (await reportDb(db).selectFrom('zendesk_user_activity').select('user_id').where('integration_id', '=', integrationId).execute()).length,
      checkpoints: (await db.selectFrom('sync_checkpoints').select('stream').where('integration_id', '=', integrationId).execute()).length,
      runs: (await db.selectFrom('sync_runs').select('id').where('integration_id', '=', integrationId).execute()).length,
    });
    assert.deepEqual(await counts(longAgo.integrationId), { users: 0, events: 0, activity: 0, checkpoints: 0, runs: 1 });
    assert.deepEqual(await counts(lately.integrationId), { users: 7, events: 8, activity: 7, checkpoints: 1, runs: 1 });
    assert.deepEqual(await counts(connected.integrationId), { users: 7, events: 8, activity: 7, checkpoints: 1, runs: 1 });
    assert.ok(changed >= 16);
    assert.ok(beats.length >= 6, 'batches of 3 rows');
    // Purged at once (DELETE ?purge=true) or already purged: nothing left to do.
    assert.equal((await runRule('purgeDisconnectedData')).changed, 0);
  });

  test('users deleted in Zendesk: names and emails scrubbed after the retention, counted from when the worker saw the deletion', async () => {
    const { integrationId } = await createTestIntegration(db, `hk-deleted-${randomUUID()}`);
    const page = (deleted: Record<number, boolean>) =>
      Object.entries(deleted).map(([id, d]) => ({
        integration_id: integrationId,
        id: Number(id),
        name: `User ${id}`,
        email: `u${id}@example.com`,
        role: 'agent',
        deleted: d,
        updated_at: new Date(),
      }));
    // Written by the sync's own repository: a live user, then the same users deleted, then one restored.
    await upsertZendeskUsers(db, page({ 1: false, 2: false, 3: false, 4: false }));
    await upsertZendeskUsers(db, page({ 1: true, 2: true, 3: true }));
    const stamped = await db.selectFrom('zendesk_users').select(['id', 'deleted_at']).where('integration_id', '=', integrationId).orderBy('id').execute();
    assert.ok(
      stamped.slice(0, 3).every((r) => r.deleted_at && Date.now() - r.deleted_at.getTime() < 60_000),
      'deleted_at set when stored as deleted',
    );
    assert.equal(stamped[3]!.deleted_at, null);
    // Seen deleted 31 days ago (1, 2) or just now (3); an upsert of a still-deleted user keeps the date.
    await db
      .updateTable('zendesk_users')
      .set({ deleted_at: ago(31 * DAY) })
      .where('integration_id', '=', integrationId)
      .where('id', 'in', [1, 2])
      .execute();
    await upsertZendeskUsers(db, page({ 1: true }));
    await runRule('scrubDeletedUsers');
    const rows = await db
      .selectFrom('zendesk_users')
      .select(['id', 'name', 'email', 'deleted', 'deleted_at'])
      .where('integration_id', '=', integrationId)
      .orderBy('id')
      .execute();
    assert.deepEqual(
      rows.map((r) => [r.id, r.name, r.email, r.deleted]),
      [
        [1, null, null, true],
        [2, null, null, true],
        [3, 'User 3', 'u3@example.com', true],
        [4, 'User 4', 'u4@example.com', false],
      ],
    );
    assert.ok(rows[0]!.deleted_at!.getTime() < Date.now() - 30 * DAY, 'an upsert of a user still deleted keeps when it was first seen deleted');
    // Restored in Zendesk: no longer deleted, no deletion date.
    await upsertZendeskUsers(db, page({ 2: false }));
    const restored = await db
      .selectFrom('zendesk_users')
      .select(['deleted_at', 'name'])
      .where('integration_id', '=', integrationId)
      .where('id', '=', 2)
      .executeTakeFirstOrThrow();
    assert.deepEqual(restored, { deleted_at: null, name: 'User 2' });
  });

  test('ticket_events: events older than the activity retention go, the activity summary and the report cache follow', async () => {
    const { integrationId } = await createTestIntegration(db, `hk-events-${randomUUID()}`);
    for (let id = 1; id <= 5; id++) await user(integrationId, id);
    // Users 1–3: old and recent events; user 4: only old ones; user 5: only recent.
    const rows: Array<{ id: number; user: number; at: Date }> = [];
    let next = 1;
    for (const u of [1, 2, 3, 4]) for (let i = 0; i < 4; i++) rows.push({ id: next++, user: u, at: ago((401 + i * 30) * DAY) });
    for (const u of [1, 2, 3, 5]) for (let i = 0; i < 2; i++) rows.push({ id: next++, user: u, at: ago((10 + i) * DAY) });
    rows.push({ id: next, user: 1, at: ago(399 * DAY) });
    await events(integrationId, rows);

    const listener = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await listener.connect();
    const notified: string[] = [];
    listener.on('notification', (n) => notified.push(n.payload ?? ''));
    await listener.query('LISTEN report_changes');
    try {
      const { changed, beats } = await runRule('pruneTicketEvents');
      const left = await db.selectFrom('ticket_events').select(['event_id', 'user_id', 'occurred_at']).where('integration_id', '=', integrationId).execute();
      assert.equal(left.length, 9, 'the 8 recent events and the one 399 days old');
      assert.ok(left.every((e) => e.occurred_at.getTime() > Date.now() - 400 * DAY));
      const activity = await reportDb(db)
        .selectFrom('zendesk_user_activity')
        .select(['user_id'])
        .where('integration_id', '=', integrationId)
        .orderBy('user_id')
        .execute();
      assert.deepEqual(
        activity.map((a) => a.user_id),
        [1, 2, 3, 5],
        'user 4 has no event left',
      );
      assert.ok(changed >= 16);
      assert.ok(beats.length >= 6, 'batches of 3 events');
      await waitFor('the report change notification', async () => notified.includes(`integration:${integrationId}`), 5_000);
    } finally {
      await listener.end();
    }
  });

  test('an integration a sync is writing is left for the next run (ticket events, deleted users)', async () => {
    const { integrationId } = await createTestIntegration(db, `hk-busy-${randomUUID()}`);
    await user(integrationId, 1, { deleted: true, deleted_at: ago(40 * DAY) });
    await events(integrationId, [{ id: 1, user: 1, at: ago(500 * DAY) }]);
    const [run] = await db
      .insertInto('sync_runs')
      .values({ integration_id: integrationId, workflow_id: `zendesk-sync-${integrationId}-busy`, run_id: 'r', status: 'running', error: null })
      .returning('id')
      .execute();
    const state = async () => ({
      events: (await db.selectFrom('ticket_events').select('event_id').where('integration_id', '=', integrationId).execute()).length,
      name: (await db.selectFrom('zendesk_users').select('name').where('integration_id', '=', integrationId).executeTakeFirstOrThrow()).name,
    });
    await runRule('pruneTicketEvents');
    await runRule('scrubDeletedUsers');
    assert.deepEqual(await state(), { events: 1, name: 'User 1' }, 'untouched while its sync runs');
    await db.updateTable('sync_runs').set({ status: 'succeeded', finished_at: new Date() }).where('id', '=', run!.id).execute();
    await runRule('pruneTicketEvents');
    await runRule('scrubDeletedUsers');
    assert.deepEqual(await state(), { events: 0, name: null }, 'pruned by the next run');
  });

  test("a retried rule resumes after its last heartbeat, and ignores another rule's", async () => {
    const { integrationId } = await createTestIntegration(db, `hk-resume-${randomUUID()}`);
    await user(integrationId, 1);
    await events(integrationId, [{ id: 1, user: 1, at: ago(500 * DAY) }]);
    // A heartbeat past every (integration, user): the walk is over, this integration is not visited again.
    const end = {
      rule: 'ticket_events',
      state: { integrationId: 'ffffffff-ffff-4fff-bfff-ffffffffffff', userId: Number.MAX_SAFE_INTEGER },
      changed: 41,
      batches: 9,
    };
    assert.equal((await runRule('pruneTicketEvents', { heartbeatDetails: end })).changed, 41, 'the count carries on from the heartbeat');
    assert.equal((await db.selectFrom('ticket_events').select('event_id').where('integration_id', '=', integrationId).execute()).length, 1);
    // Another rule's heartbeat is not a position of this walk.
    await runRule('pruneTicketEvents', { heartbeatDetails: { ...end, rule: 'sync_runs' } });
    assert.equal((await db.selectFrom('ticket_events').select('event_id').where('integration_id', '=', integrationId).execute()).length, 0);
  });
});

describe('the housekeeping schedule, end to end', () => {
  let system: System;

  before(async () => {
    system = await startSystem({
      env: {
        HOUSEKEEPING_INTERVAL: '24h',
        SYNC_RUN_RETENTION_RUNS: '2',
        SYNC_RUN_RETENTION_DAYS: '0',
        OAUTH_FLOW_RETENTION: '1s',
        DISCONNECTED_DATA_RETENTION_DAYS: '0',
        HOUSEKEEPING_BATCH_SIZE: '2',
        ACTIVITY_RETENTION_DAYS: '100',
        INACTIVE_AFTER_DAYS: '30',
      },
    });
  });
  after(() => system?.stop());

  test("the worker's schedule runs the housekeeping workflow on its task queue, and every rule applies", async () => {
    const { integrationId } = await createTestIntegration(db, `hk-e2e-${randomUUID()}`);
    const gone = await createTestIntegration(db, `hk-e2e-gone-${randomUUID()}`, 'disconnected');
    await db
      .insertInto('sync_runs')
      .values(
        [1, 2, 3, 4, 5].map((d) => ({
          integration_id: integrationId,
          workflow_id: `w-${randomUUID()}`,
          run_id: 'r',
          status: 'succeeded' as const,
          started_at: ago(d * 60_000),
          error: null,
        })),
      )
      .execute();
    await db
      .insertInto('oauth_flows')
      .values([
        { integration_id: integrationId, created_at: ago(DAY), expires_at: ago(DAY - 60_000) },
        { integration_id: integrationId, expires_at: ago(5_000) },
      ])
      .execute();
    await user(gone.integrationId, 1);
    await user(integrationId, 1);
    await user(integrationId, 2, { deleted: true, deleted_at: ago(60_000) });
    await events(integrationId, [
      { id: 1, user: 1, at: ago(101 * DAY) },
      { id: 2, user: 1, at: ago(99 * DAY) },
    ]);

    // A worker process starts (src/worker.ts) and makes its deployment's schedule.
    const worker = await startWorkerProcess(system);
    const settings = { taskQueue: system.config.temporal.taskQueue, intervalMs: DAY };
    const scheduleId = housekeepingScheduleId(settings.taskQueue);
    const handle = system.temporal.schedule.getHandle(scheduleId);
    try {
      await waitFor('the worker to make the housekeeping schedule', async () => worker.output().includes('housekeeping schedule ready'), 30_000);
      // Idempotent: another worker's start finds it and leaves one schedule with the same spec.
      assert.equal(await ensureHousekeepingSchedule(system.temporal, settings), scheduleId);
      const listed = [];
      for await (const s of system.temporal.schedule.list()) if (s.scheduleId === scheduleId) listed.push(s);
      assert.equal(listed.length, 1);
      const described = await handle.describe();
      assert.equal(described.action.type === 'startWorkflow' && described.action.workflowType, 'housekeeping');
      assert.equal(described.action.type === 'startWorkflow' && described.action.taskQueue, settings.taskQueue);
      assert.equal(described.policies.overlap, 'SKIP');
      assert.ok(described.info.nextActionTimes[0]!.getTime() - Date.now() <= DAY);

      await handle.trigger();
      const workflowId = await waitFor(
        'the schedule to start a housekeeping run',
        async () => (await handle.describe()).info.recentActions[0]?.action.workflow.workflowId,
        20_000,
      );
      const result = await system.temporal.workflow.getHandle<typeof housekeeping>(workflowId).result();
      assert.deepEqual(result.failed, []);

      const runs = await db.selectFrom('sync_runs').select('started_at').where('integration_id', '=', integrationId).execute();
      assert.equal(runs.length, 2, 'SYNC_RUN_RETENTION_RUNS=2 with SYNC_RUN_RETENTION_DAYS=0');
      const flows = await db.selectFrom('oauth_flows').select('created_at').where('integration_id', '=', integrationId).execute();
      assert.equal(flows.length, 1, 'the newest flow is kept, the one ended a day ago is gone');
      assert.equal(
        (await db.selectFrom('zendesk_users').select('id').where('integration_id', '=', gone.integrationId).execute()).length,
        0,
        'DISCONNECTED_DATA_RETENTION_DAYS=0',
      );
      const deletedUser = await db
        .selectFrom('zendesk_users')
        .select(['name', 'email'])
        .where('integration_id', '=', integrationId)
        .where('id', '=', 2)
        .executeTakeFirstOrThrow();
      assert.deepEqual(deletedUser, { name: null, email: null });
      const left = await db.selectFrom('ticket_events').select('event_id').where('integration_id', '=', integrationId).execute();
      assert.deepEqual(
        left.map((e) => e.event_id),
        [2],
        'ACTIVITY_RETENTION_DAYS=100',
      );
      assert.ok(result.changed.pruneSyncRuns! >= 3 && result.changed.pruneTicketEvents! >= 1);
    } finally {
      await handle.delete().catch(() => undefined);
      await worker.kill('SIGTERM');
    }
  });

  test('inactiveDays above ACTIVITY_RETENTION_DAYS is a 400 naming the cap', async () => {
    const tenant = await api(system, 'POST', '/v1/tenants', { key: system.adminKey, body: { name: 'cap' } });
    const row = await db
      .insertInto('integrations')
      .values({ tenant_id: tenant.json.id, workspace: 'cap', status: 'connected', error: null, zendesk_user_id: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    const base = `/v1/integrations/${row.id}`;
    for (const path of [`${base}/users?inactiveDays=101`, `${base}/users.csv?inactiveDays=101`, `${base}/utilization?inactiveDays=101`]) {
      const res = await api(system, 'GET', path, { key: tenant.json.apiKey });
      assert.equal(res.status, 400, path);
      assert.deepEqual(
        res.json.errors.map((e: { name: string }) => e.name),
        ['inactiveDays'],
      );
      assert.match(res.json.errors[0].reason, /at most 100.*ACTIVITY_RETENTION_DAYS/);
    }
    assert.equal((await api(system, 'GET', `${base}/utilization?inactiveDays=100`, { key: tenant.json.apiKey })).status, 200);
    // The OpenAPI document states this server's cap.
    const doc = (await api(system, 'GET', '/openapi.json')).json;
    const param = doc.paths['/v1/integrations/{id}/users'].get.parameters.find((p: { name: string }) => p.name === 'inactiveDays');
    assert.match(param.description, /ACTIVITY_RETENTION_DAYS \(400 unless configured; this server: 100\)/);
  });
});
