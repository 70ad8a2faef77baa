import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { zendeskSync, type SyncInput } from '../../src/workflows/sync';
import { withStubWorker } from '../helpers/temporal';

/** The sync workflow alone, with stub activities standing for Zendesk and PostgreSQL. */
const target = (): SyncInput => ({ integrationId: randomUUID(), tenantId: randomUUID(), workspace: 'acme' });

function stubs(chunkPlan: { users: number; events: number }, overrides: Record<string, (...args: any[]) => Promise<unknown>> = {}) {
  const calls: string[] = [];
  let users = chunkPlan.users;
  let events = chunkPlan.events;
  const activities = {
    beginSync: async () => (calls.push('beginSync'), { syncRunId: 'run-1' }),
    syncUsersChunk: async () => (calls.push('users'), { done: --users <= 0, pages: 2, records: 2000 }),
    syncTicketEventsChunk: async () => (calls.push('events'), { done: --events <= 0, pages: 3, records: 2500 }),
    syncEntitlementsChunk: async () => (calls.push('entitlements'), { done: true, pages: 1, records: 4 }),
    syncSeatHoldersChunk: async () => (calls.push('seats'), { done: true, pages: 2, records: 150 }),
    finishSync: async (arg: any) => (calls.push(`finish:${arg.status}`), undefined),
    markNeedsReauth: async () => (calls.push('needsReauth'), undefined),
    ...overrides,
  };
  return { calls, activities };
}

test('both streams run until done, then the run is recorded as succeeded', async () => {
  const s = stubs({ users: 3, events: 2 });
  const input = target();
  const progress = await withStubWorker(s.activities, (taskQueue, client) =>
    client.workflow.execute(zendeskSync, { taskQueue, workflowId: `zendesk-sync-${input.integrationId}`, args: [input] }),
  );
  assert.equal(progress.step, 'succeeded');
  assert.deepEqual(progress.users, { pages: 6, records: 6000, done: true });
  assert.deepEqual(progress.ticketEvents, { pages: 6, records: 5000, done: true });
  assert.equal(s.calls.filter((c) => c === 'users').length, 3);
  assert.equal(s.calls.filter((c) => c === 'events').length, 2);
  assert.deepEqual(progress.entitlements, { pages: 1, records: 4, done: true });
  assert.deepEqual(progress.seatHolders, { pages: 2, records: 150, done: true });
  // Seat holders first, then their entitlements, then the end users (the users export).
  assert.ok(s.calls.indexOf('seats') < s.calls.indexOf('entitlements'), 'entitlements after the seat holders');
  assert.ok(s.calls.indexOf('entitlements') < s.calls.indexOf('users'), 'end users after the seat report');
  assert.equal(s.calls.at(-1), 'finish:succeeded');
});

test('entitlements that take several chunks continue, across a continue-as-new, before the run is closed', async () => {
  let left = 4;
  const s = stubs(
    { users: 1, events: 1 },
    { syncEntitlementsChunk: async () => (s.calls.push('entitlements'), { done: --left <= 0, pages: 1, records: 100 }) },
  );
  const input = { ...target(), chunksPerRun: 3 };
  const progress = await withStubWorker(s.activities, (taskQueue, client) =>
    client.workflow.execute(zendeskSync, { taskQueue, workflowId: `zendesk-sync-${input.integrationId}`, args: [input] }),
  );
  assert.deepEqual(progress.entitlements, { pages: 4, records: 400, done: true });
  assert.equal(s.calls.filter((c) => c.startsWith('finish')).length, 1);
  assert.equal(s.calls.at(-1), 'finish:succeeded');
});

test('a long sync continues as new and keeps its run and progress', async () => {
  const s = stubs({ users: 7, events: 1 });
  const input = { ...target(), chunksPerRun: 3 };
  const progress = await withStubWorker(s.activities, (taskQueue, client) =>
    client.workflow.execute(zendeskSync, { taskQueue, workflowId: `zendesk-sync-${input.integrationId}`, args: [input] }),
  );
  assert.equal(progress.users.records, 14_000);
  assert.equal(s.calls.filter((c) => c === 'beginSync').length, 1);
  assert.equal(s.calls.filter((c) => c.startsWith('finish')).length, 1);
});

test('a sync that is not allowed to start is skipped', async () => {
  const s = stubs({ users: 1, events: 1 }, { beginSync: async () => ({ skipped: 'sync x is still running' }) });
  const input = target();
  const progress = await withStubWorker(s.activities, (taskQueue, client) =>
    client.workflow.execute(zendeskSync, { taskQueue, workflowId: `zendesk-sync-${input.integrationId}`, args: [input] }),
  );
  assert.equal(progress.step, 'skipped');
  assert.deepEqual(s.calls, []);
});

test('a lost grant marks needs_reauth, records the failure and stops without retrying', async () => {
  let attempts = 0;
  const s = stubs(
    { users: 5, events: 5 },
    {
      syncUsersChunk: async () => {
        attempts++;
        throw ApplicationFailure.nonRetryable('Zendesk no longer accepts this authorization. Reconnect.', 'ZendeskAuthLost');
      },
    },
  );
  const input = target();
  const progress = await withStubWorker(s.activities, (taskQueue, client) =>
    client.workflow.execute(zendeskSync, { taskQueue, workflowId: `zendesk-sync-${input.integrationId}`, args: [input] }),
  );
  assert.equal(progress.step, 'failed');
  assert.equal(attempts, 1);
  assert.ok(s.calls.includes('needsReauth'));
  assert.equal(s.calls.at(-1), 'finish:failed');
});

test('an integration that does not sync end users never fetches the users export', async () => {
  const s = stubs({ users: 3, events: 1 }, { beginSync: async () => (s.calls.push('beginSync'), { syncRunId: 'run-1', syncEndUsers: false }) });
  const input = target();
  const progress = await withStubWorker(s.activities, (taskQueue, client) =>
    client.workflow.execute(zendeskSync, { taskQueue, workflowId: `zendesk-sync-${input.integrationId}`, args: [input] }),
  );
  assert.equal(progress.step, 'succeeded');
  assert.equal(progress.endUsersSkipped, true);
  assert.equal(s.calls.filter((c) => c === 'users').length, 0);
  assert.ok(s.calls.includes('seats'));
});
