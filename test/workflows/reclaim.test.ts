import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { FailureType } from '../../src/shared/failureTypes';
import {
  approveReclamationUpdate,
  keepReclamationUserUpdate,
  reclaimProgressQuery,
  rejectReclamationUpdate,
  undoReclamationUpdate,
} from '../../src/workflows/messages';
import { reclaimWorkflowId, zendeskReclaim, type ReclaimInput } from '../../src/workflows/reclaim';
import { withStubWorker } from '../helpers/temporal';

/** The reclamation workflow alone: approval, expiry, rejection, per-user steps that fail alone, undo. */
function stubs(opts: { failing?: number[]; notConnectedAt?: number; refuseRestore?: number[]; activeAtRecheck?: Record<number, number> } = {}) {
  let rechecks = 0;
  const calls: string[] = [];
  return {
    calls,
    activities: {
      recordApproval: async (i: { userIds?: number[] }) => void calls.push(`approve:${i.userIds?.join(',') ?? 'all'}`),
      closeReclamation: async (i: { status: string }) => void calls.push(`close:${i.status}`),
      endUndoWindow: async () => void calls.push('end-undo'),
      reclaimUser: async (i: { userId: number }) => {
        calls.push(`reclaim:${i.userId}`);
        if (i.userId === opts.notConnectedAt) throw ApplicationFailure.nonRetryable('not connected', FailureType.NotConnected);
        return opts.failing?.includes(i.userId) ? 'failed' : 'downgraded';
      },
      restoreUser: async (i: { userId: number }) => (calls.push(`restore:${i.userId}`), opts.refuseRestore?.includes(i.userId) ? 'undo_failed' : 'restored'),
      startNotice: async (i: { userIds: number[] }) => void calls.push(`notice:${i.userIds.join(',')}`),
      keepUser: async (i: { userId: number }) => void calls.push(`keep:${i.userId}`),
      // The users "active again" at the n-th re-check (1-based), among those still asked about.
      recheckNotice: async (i: { userIds: number[] }) => {
        rechecks++;
        const dropped = i.userIds.filter((id) => opts.activeAtRecheck?.[id] === rechecks);
        if (dropped.length) calls.push(`active:${dropped.join(',')}`);
        return dropped;
      },
      endNotice: async () => void calls.push('notice-ended'),
    },
  };
}

const input = (over: Partial<ReclaimInput> = {}): ReclaimInput => ({
  reclamationId: randomUUID(),
  integrationId: randomUUID(),
  tenantId: randomUUID(),
  candidateIds: [11, 12, 13],
  approvalWindowMs: 60_000,
  undoWindowMs: 60_000,
  ...over,
});
const by = { apiKeyId: null, actor: 'tester' };

test('an approved plan downgrades each approved user once, one failing user does not stop the others, then undo restores them', async () => {
  const s = stubs({ failing: [12] });
  await withStubWorker(s.activities, async (taskQueue, client) => {
    const args = input();
    const handle = await client.workflow.start(zendeskReclaim, { taskQueue, workflowId: reclaimWorkflowId(args.reclamationId), args: [args] });
    await handle.executeUpdate(approveReclamationUpdate, { args: [{ ...by }] });
    for (let i = 0; i < 100 && (await handle.query(reclaimProgressQuery)).status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 50));
    const progress = await handle.query(reclaimProgressQuery);
    assert.equal(progress.status, 'completed');
    assert.deepEqual(progress.counts, { planned: 3, downgraded: 2, skipped: 0, failed: 1, restored: 0, undoFailed: 0 });
    const undone = await handle.executeUpdate(undoReclamationUpdate, { args: [{ ...by }] });
    assert.deepEqual(undone, { restored: [11, 13], failed: [], skipped: [] });
    await assert.rejects(
      handle.executeUpdate(undoReclamationUpdate, { args: [{ ...by, userIds: [12] }] }),
      WorkflowUpdateFailedError,
      'a failed user cannot be undone',
    );
    await handle.terminate('test done');
  });
  assert.deepEqual(s.calls, ['approve:all', 'reclaim:11', 'reclaim:12', 'reclaim:13', 'close:completed', 'restore:11', 'restore:13']);
});

test('a partial approval runs only the approved users; approving twice or a user not planned is refused', async () => {
  const s = stubs();
  await withStubWorker(s.activities, async (taskQueue, client) => {
    const args = input({ undoWindowMs: 200 });
    const handle = await client.workflow.start(zendeskReclaim, { taskQueue, workflowId: reclaimWorkflowId(args.reclamationId), args: [args] });
    await assert.rejects(handle.executeUpdate(approveReclamationUpdate, { args: [{ ...by, userIds: [99] }] }), (err: WorkflowUpdateFailedError) =>
      /Not planned/.test(String(err.cause?.message)),
    );
    await handle.executeUpdate(approveReclamationUpdate, { args: [{ ...by, userIds: [13] }] });
    await assert.rejects(handle.executeUpdate(approveReclamationUpdate, { args: [{ ...by }] }), WorkflowUpdateFailedError);
    const result = await handle.result();
    assert.equal(result.counts.downgraded, 1);
  });
  assert.deepEqual(s.calls, ['approve:13', 'reclaim:13', 'close:completed', 'end-undo']);
});

test('a plan not approved in time expires, a rejected one closes, and neither changes anyone', async () => {
  for (const mode of ['expire', 'reject'] as const) {
    const s = stubs();
    await withStubWorker(s.activities, async (taskQueue, client) => {
      const args = input({ approvalWindowMs: mode === 'expire' ? 300 : 60_000 });
      const handle = await client.workflow.start(zendeskReclaim, { taskQueue, workflowId: reclaimWorkflowId(args.reclamationId), args: [args] });
      if (mode === 'reject') await handle.executeUpdate(rejectReclamationUpdate, { args: [by] });
      const result = await handle.result();
      assert.equal(result.status, mode === 'expire' ? 'expired' : 'rejected');
    });
    assert.deepEqual(s.calls, [mode === 'expire' ? 'close:expired' : 'close:rejected']);
  }
});

test('when the integration is no longer connected the remaining users are left alone', async () => {
  const s = stubs({ notConnectedAt: 12 });
  await withStubWorker(s.activities, async (taskQueue, client) => {
    const args = input({ undoWindowMs: 100 });
    const handle = await client.workflow.start(zendeskReclaim, { taskQueue, workflowId: reclaimWorkflowId(args.reclamationId), args: [args] });
    await handle.executeUpdate(approveReclamationUpdate, { args: [by] });
    await handle.result();
  });
  assert.deepEqual(s.calls, ['approve:all', 'reclaim:11', 'reclaim:12', 'close:completed', 'end-undo']);
});

test('a notice period: everyone told, a kept user and one active again are left alone, the rest changed after it ends', async () => {
  const s = stubs({ activeAtRecheck: { 13: 2 } });
  await withStubWorker(s.activities, async (taskQueue, client) => {
    const args = input({ candidateIds: [11, 12, 13, 14], noticeMs: 1_500, recheckEveryMs: 400, keepCooldownMs: 60_000 });
    const handle = await client.workflow.start(zendeskReclaim, { taskQueue, workflowId: reclaimWorkflowId(args.reclamationId), args: [args] });
    const approved = await handle.executeUpdate(approveReclamationUpdate, { args: [{ ...by }] });
    assert.equal(approved.status, 'notice', 'the approval answers once the notice period began');
    assert.ok(approved.noticeUntil);
    const kept = await handle.executeUpdate(keepReclamationUserUpdate, { args: [{ ...by, userId: 12 }] });
    assert.equal(kept.counts.kept, 1);
    await assert.rejects(handle.executeUpdate(keepReclamationUserUpdate, { args: [{ ...by, userId: 12 }] }), WorkflowUpdateFailedError, 'kept once');
    await assert.rejects(
      handle.executeUpdate(keepReclamationUserUpdate, { args: [{ ...by, userId: 99 }] }),
      WorkflowUpdateFailedError,
      'not a user of the plan',
    );
    for (let i = 0; i < 200 && (await handle.query(reclaimProgressQuery)).status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 50));
    const progress = await handle.query(reclaimProgressQuery);
    assert.equal(progress.status, 'completed');
    assert.deepEqual(progress.counts, { planned: 4, downgraded: 2, skipped: 1, failed: 0, restored: 0, undoFailed: 0, kept: 1 });
    await assert.rejects(
      handle.executeUpdate(keepReclamationUserUpdate, { args: [{ ...by, userId: 14 }] }),
      WorkflowUpdateFailedError,
      'no keeping once the notice period is over',
    );
    await handle.terminate('test done');
  });
  const reclaimed = s.calls.filter((c) => c.startsWith('reclaim:'));
  assert.deepEqual(reclaimed, ['reclaim:11', 'reclaim:14'], 'only the users neither kept nor active again');
  assert.deepEqual(s.calls.slice(0, 3), ['approve:all', 'notice:11,12,13,14', 'keep:12']);
  assert.ok(s.calls.indexOf('active:13') < s.calls.indexOf('notice-ended'));
  assert.ok(s.calls.indexOf('notice-ended') < s.calls.indexOf('reclaim:11'), 'nobody is changed before the notice ends');
});

test('without a notice period nothing is announced and keep is refused', async () => {
  const s = stubs();
  await withStubWorker(s.activities, async (taskQueue, client) => {
    const args = input({ candidateIds: [11] });
    const handle = await client.workflow.start(zendeskReclaim, { taskQueue, workflowId: reclaimWorkflowId(args.reclamationId), args: [args] });
    await assert.rejects(handle.executeUpdate(keepReclamationUserUpdate, { args: [{ ...by, userId: 11 }] }), WorkflowUpdateFailedError);
    await handle.executeUpdate(approveReclamationUpdate, { args: [{ ...by }] });
    for (let i = 0; i < 100 && (await handle.query(reclaimProgressQuery)).status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 50));
    await handle.terminate('test done');
  });
  assert.ok(!s.calls.some((c) => c.startsWith('notice') || c.startsWith('keep')));
});
