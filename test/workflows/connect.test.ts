import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { zendeskConnect, type ConnectInput } from '../../src/workflows/connect';
import { submitConsentUpdate } from '../../src/workflows/messages';
import { withStubWorker } from '../helpers/temporal';

/** The connect workflow alone: every activity is a stub that records its calls. */
function stubs(overrides: Record<string, (...args: any[]) => Promise<unknown>> = {}) {
  const calls: Array<[string, any]> = [];
  const record = (name: string, result: unknown = undefined) => async (arg: any) => {
    calls.push([name, arg]);
    return result;
  };
  const activities = {
    exchangeAuthorizationCode: record('exchangeAuthorizationCode'),
    verifyAdmin: record('verifyAdmin', { isAdmin: true, userId: 7, role: 'admin' }),
    discardCredentials: record('discardCredentials'),
    markConnected: record('markConnected'),
    closeConsentAttempt: record('closeConsentAttempt'),
    startSyncing: record('startSyncing'),
    ...overrides,
  };
  return { calls, activities, names: () => calls.map(([n]) => n) };
}

const input = (consentTimeoutMs = 60_000): ConnectInput => ({
  integrationId: randomUUID(),
  tenantId: randomUUID(),
  workspace: 'acme',
  flowId: randomUUID(),
  consentTimeoutMs,
});

test('approval exchanges the code, checks the admin, connects and starts syncing', async () => {
  const s = stubs();
  const args = input();
  await withStubWorker(s.activities, async (taskQueue, client) => {
    const handle = await client.workflow.start(zendeskConnect, { taskQueue, workflowId: `t-${args.integrationId}`, args: [args] });
    const outcome = await handle.executeUpdate(submitConsentUpdate, { args: [{ flowId: args.flowId, outcome: 'approved' }] });
    assert.deepEqual(outcome, { status: 'connected', message: null });
    assert.deepEqual(await handle.result(), outcome);
  });
  assert.deepEqual(s.names(), ['exchangeAuthorizationCode', 'verifyAdmin', 'markConnected', 'startSyncing']);
  assert.deepEqual(s.calls[2][1], { integrationId: args.integrationId, zendeskUserId: 7 });
});

test('denial closes the attempt as consent_denied', async () => {
  const s = stubs();
  const args = input();
  await withStubWorker(s.activities, async (taskQueue, client) => {
    const handle = await client.workflow.start(zendeskConnect, { taskQueue, workflowId: `t-${args.integrationId}`, args: [args] });
    const outcome = await handle.executeUpdate(submitConsentUpdate, { args: [{ flowId: args.flowId, outcome: 'denied' }] });
    assert.equal(outcome.status, 'consent_denied');
  });
  assert.deepEqual(s.names(), ['closeConsentAttempt']);
  assert.equal(s.calls[0][1].status, 'consent_denied');
});

test('no consent before the timeout ends the attempt as expired', async () => {
  const s = stubs();
  const args = input(300);
  await withStubWorker(s.activities, async (taskQueue, client) => {
    const outcome = await client.workflow.execute(zendeskConnect, { taskQueue, workflowId: `t-${args.integrationId}`, args: [args] });
    assert.equal(outcome.status, 'expired');
  });
  assert.deepEqual(s.names(), ['closeConsentAttempt']);
  assert.equal(s.calls[0][1].status, 'expired');
});

test('a non-admin approval discards the tokens and asks for an admin', async () => {
  const s = stubs({ verifyAdmin: async () => ({ isAdmin: false, userId: 9, role: 'agent' }) });
  const args = input();
  await withStubWorker(s.activities, async (taskQueue, client) => {
    const handle = await client.workflow.start(zendeskConnect, { taskQueue, workflowId: `t-${args.integrationId}`, args: [args] });
    const outcome = await handle.executeUpdate(submitConsentUpdate, { args: [{ flowId: args.flowId, outcome: 'approved' }] });
    assert.equal(outcome.status, 'needs_reauth');
    assert.match(outcome.message!, /not an admin/);
  });
  assert.deepEqual(s.names(), ['exchangeAuthorizationCode', 'discardCredentials', 'closeConsentAttempt']);
});

test('a refused code gives needs_reauth with the failure message, without retrying', async () => {
  let attempts = 0;
  const s = stubs({
    exchangeAuthorizationCode: async () => {
      attempts++;
      throw ApplicationFailure.nonRetryable('Zendesk refused the authorization code. Use Reconnect.', 'ZendeskAuthLost');
    },
  });
  const args = input();
  await withStubWorker(s.activities, async (taskQueue, client) => {
    const handle = await client.workflow.start(zendeskConnect, { taskQueue, workflowId: `t-${args.integrationId}`, args: [args] });
    const outcome = await handle.executeUpdate(submitConsentUpdate, { args: [{ flowId: args.flowId, outcome: 'approved' }] });
    assert.deepEqual(outcome, { status: 'needs_reauth', message: 'Zendesk refused the authorization code. Use Reconnect.' });
  });
  assert.equal(attempts, 1);
});

test('consent for another attempt, or a second consent, is rejected without touching history', async () => {
  const s = stubs();
  const args = input();
  await withStubWorker(s.activities, async (taskQueue, client) => {
    const handle = await client.workflow.start(zendeskConnect, { taskQueue, workflowId: `t-${args.integrationId}`, args: [args] });
    await assert.rejects(handle.executeUpdate(submitConsentUpdate, { args: [{ flowId: randomUUID(), outcome: 'approved' }] }), WorkflowUpdateFailedError);
    await handle.executeUpdate(submitConsentUpdate, { args: [{ flowId: args.flowId, outcome: 'approved' }] });
    await handle.result();
  });
  assert.deepEqual(s.names(), ['exchangeAuthorizationCode', 'verifyAdmin', 'markConnected', 'startSyncing']);
});
