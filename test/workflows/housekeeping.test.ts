import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { housekeeping, HOUSEKEEPING_RULES } from '../../src/workflows/housekeeping';
import { withStubWorker } from '../helpers/temporal';

/** The housekeeping workflow alone, with stub activities standing for the rules against PostgreSQL. */

function stubs(overrides: Record<string, (...args: any[]) => Promise<unknown>> = {}) {
  const calls: string[] = [];
  const activities: Record<string, (...args: any[]) => Promise<unknown>> = {};
  for (const [i, rule] of HOUSEKEEPING_RULES.entries()) {
    activities[rule.activity] = async (...args: unknown[]) => {
      calls.push(rule.activity);
      assert.deepEqual(args, [], 'rules take their settings from the worker, not the workflow');
      return overrides[rule.activity] ? overrides[rule.activity]!() : (i + 1) * 10;
    };
  }
  return { calls, activities };
}

const run = (activities: Record<string, (...args: any[]) => Promise<unknown>>) =>
  withStubWorker(activities, (taskQueue, client) => client.workflow.execute(housekeeping, { taskQueue, workflowId: `zendesk-housekeeping-${randomUUID()}` }));

test('runs every rule once, one after the other, and returns what each changed', async () => {
  const s = stubs();
  const result = await run(s.activities);
  assert.deepEqual(s.calls, ['pruneOAuthFlows', 'pruneRateLimitBlocks', 'pruneSyncRuns', 'purgeDisconnectedData', 'scrubDeletedUsers', 'pruneTicketEvents']);
  assert.deepEqual(result, {
    changed: { pruneOAuthFlows: 10, pruneRateLimitBlocks: 20, pruneSyncRuns: 30, purgeDisconnectedData: 40, scrubDeletedUsers: 50, pruneTicketEvents: 60 },
    failed: [],
  });
});

test('a rule that fails does not stop the others; the run then fails naming it', async () => {
  const s = stubs({
    pruneSyncRuns: async () => {
      throw ApplicationFailure.nonRetryable('relation is locked', 'TestFailure');
    },
  });
  await assert.rejects(run(s.activities), (err: unknown) => {
    assert.ok(err instanceof WorkflowFailedError);
    const cause = err.cause as ApplicationFailure;
    assert.equal(cause.type, 'HousekeepingIncomplete');
    assert.match(cause.message, /pruneSyncRuns/);
    assert.deepEqual(cause.details?.[0], {
      changed: { pruneOAuthFlows: 10, pruneRateLimitBlocks: 20, purgeDisconnectedData: 40, scrubDeletedUsers: 50, pruneTicketEvents: 60 },
      failed: ['pruneSyncRuns'],
    });
    return true;
  });
  assert.deepEqual(
    s.calls,
    HOUSEKEEPING_RULES.map((r) => r.activity),
    'every rule still ran',
  );
});

test('a rule that fails once is retried by Temporal and its count is kept', async () => {
  let attempts = 0;
  const s = stubs({
    scrubDeletedUsers: async () => {
      if (++attempts === 1) throw ApplicationFailure.create({ message: 'connection reset', type: 'TestBlip', nextRetryDelay: '50ms' });
      return 7;
    },
  });
  const result = await run(s.activities);
  assert.equal(attempts, 2);
  assert.equal(result.changed.scrubDeletedUsers, 7);
  assert.deepEqual(result.failed, []);
});
