import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { zendeskConnect, type ConnectInput } from '../../src/workflows/connect';
import { submitConsentUpdate, type ConsentDecision } from '../../src/workflows/messages';
import { withStubWorker } from '../helpers/temporal';

/** The connect workflow alone: every activity is a stub that records its calls. */
function stubs(overrides: Record<string, (...args: any[]) => Promise<unknown>> = {}) {
  const calls: Array<[string, any]> = [];
  const record =
    (name: string, result: unknown = undefined) =>
    async (arg: any) => {
      calls.push([name, arg]);
      return result;
    };
  const activities = {
    exchangeAuthorizationCode: record('exchangeAuthorizationCode'),
    verifyAdmin: record('verifyAdmin', { isAdmin: true, userId: 7, role: 'admin' }),
    discardCredentials: record('discardCredentials'),
    markConnected: record('markConnected'),
    exchangeCodeForStagedTokens: record('exchangeCodeForStagedTokens'),
    verifyStagedAdmin: record('verifyStagedAdmin', { isAdmin: true, userId: 7, role: 'admin' }),
    promoteStagedCredentials: record('promoteStagedCredentials', { replaced: true }),
    revokeStagedCredentials: record('revokeStagedCredentials'),
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

const APPROVED_PATH = ['exchangeCodeForStagedTokens', 'verifyStagedAdmin', 'promoteStagedCredentials', 'startSyncing', 'revokeStagedCredentials'];

test('approval stages the tokens, checks the admin, swaps them in, starts syncing, then revokes the replaced grant', async () => {
  const s = stubs();
  const args = input();
  await withStubWorker(s.activities, async (taskQueue, client) => {
    const handle = await client.workflow.start(zendeskConnect, { taskQueue, workflowId: `t-${args.integrationId}`, args: [args] });
    const outcome = await handle.executeUpdate(submitConsentUpdate, { args: [{ flowId: args.flowId, outcome: 'approved' }], updateId: args.flowId });
    assert.deepEqual(outcome, { status: 'connected', message: null });
    assert.deepEqual(await handle.result(), outcome);
  });
  assert.deepEqual(s.names(), APPROVED_PATH);
  const flow = { integrationId: args.integrationId, flowId: args.flowId };
  assert.deepEqual(s.calls[0]![1], flow);
  assert.deepEqual(s.calls[1]![1], flow);
  assert.deepEqual(s.calls[2]![1], { ...flow, zendeskUserId: 7 });
  assert.deepEqual(s.calls[4]![1], flow);
});

test('a first connect replaces no grant, so there is nothing to revoke', async () => {
  const s = stubs();
  (s.activities as Record<string, (arg: any) => Promise<unknown>>).promoteStagedCredentials = async (arg) => {
    s.calls.push(['promoteStagedCredentials', arg]);
    return { replaced: false };
  };
  const args = input();
  await withStubWorker(s.activities, async (taskQueue, client) => {
    const handle = await client.workflow.start(zendeskConnect, { taskQueue, workflowId: `t-${args.integrationId}`, args: [args] });
    assert.equal((await handle.executeUpdate(submitConsentUpdate, { args: [{ flowId: args.flowId, outcome: 'approved' }] })).status, 'connected');
  });
  assert.deepEqual(s.names(), ['exchangeCodeForStagedTokens', 'verifyStagedAdmin', 'promoteStagedCredentials', 'startSyncing']);
});

test('the same update id twice is one consent: the second call gets the same outcome, nothing runs twice', async () => {
  const s = stubs();
  const args = input();
  await withStubWorker(s.activities, async (taskQueue, client) => {
    const handle = await client.workflow.start(zendeskConnect, { taskQueue, workflowId: `t-${args.integrationId}`, args: [args] });
    const consent = { args: [{ flowId: args.flowId, outcome: 'approved' }] as [ConsentDecision], updateId: args.flowId };
    const [first, second] = await Promise.all([handle.executeUpdate(submitConsentUpdate, consent), handle.executeUpdate(submitConsentUpdate, consent)]);
    assert.deepEqual(first, { status: 'connected', message: null });
    assert.deepEqual(second, first);
    await handle.result();
    // After the workflow finished too (a reload much later): Temporal still answers the update's outcome.
    assert.deepEqual(await handle.executeUpdate(submitConsentUpdate, consent), first);
  });
  assert.deepEqual(s.names(), APPROVED_PATH);
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
  assert.equal(s.calls[0]![1].status, 'consent_denied');
  assert.equal(s.calls[0]![1].flowId, args.flowId);
});

test('no consent before the timeout ends the attempt as expired', async () => {
  const s = stubs();
  const args = input(300);
  await withStubWorker(s.activities, async (taskQueue, client) => {
    const outcome = await client.workflow.execute(zendeskConnect, { taskQueue, workflowId: `t-${args.integrationId}`, args: [args] });
    assert.equal(outcome.status, 'expired');
  });
  assert.deepEqual(s.names(), ['closeConsentAttempt']);
  assert.equal(s.calls[0]![1].status, 'expired');
});

test("a non-admin approval revokes the non-admin's staged grant (the working one is never touched) and asks for an admin", async () => {
  const s = stubs({ verifyStagedAdmin: async () => ({ isAdmin: false, userId: 9, role: 'agent' }) });
  const args = input();
  await withStubWorker(s.activities, async (taskQueue, client) => {
    const handle = await client.workflow.start(zendeskConnect, { taskQueue, workflowId: `t-${args.integrationId}`, args: [args] });
    const outcome = await handle.executeUpdate(submitConsentUpdate, { args: [{ flowId: args.flowId, outcome: 'approved' }] });
    assert.equal(outcome.status, 'needs_reauth');
    assert.match(outcome.message!, /not an admin/);
  });
  assert.deepEqual(s.names(), ['exchangeCodeForStagedTokens', 'revokeStagedCredentials', 'closeConsentAttempt']);
  assert.deepEqual(s.calls[2]![1], {
    integrationId: args.integrationId,
    status: 'needs_reauth',
    message: 'The Zendesk user who approved access is not an admin. Ask a Zendesk admin to approve access with Reconnect.',
    flowId: args.flowId,
    outcome: 'not_admin',
  });
});

test('a failure after the exchange revokes the staged grant and closes the attempt as failed', async () => {
  const s = stubs({
    promoteStagedCredentials: async () => {
      throw ApplicationFailure.nonRetryable('The integration is disconnected; its new grant is not used', 'IntegrationNotConnectable');
    },
  });
  const args = input();
  await withStubWorker(s.activities, async (taskQueue, client) => {
    const handle = await client.workflow.start(zendeskConnect, { taskQueue, workflowId: `t-${args.integrationId}`, args: [args] });
    const outcome = await handle.executeUpdate(submitConsentUpdate, { args: [{ flowId: args.flowId, outcome: 'approved' }] });
    assert.equal(outcome.status, 'failed');
  });
  assert.deepEqual(s.names(), ['exchangeCodeForStagedTokens', 'verifyStagedAdmin', 'revokeStagedCredentials', 'closeConsentAttempt']);
  assert.equal(s.calls[3]![1].status, 'failed');
});

test('a refused code gives needs_reauth with the failure message, without retrying', async () => {
  let attempts = 0;
  const s = stubs({
    exchangeCodeForStagedTokens: async () => {
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
  // The code exchange waits until the second consent has been refused, so the first is surely still at work.
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const s = stubs();
  const exchange = s.activities.exchangeCodeForStagedTokens;
  s.activities.exchangeCodeForStagedTokens = async (arg: unknown) => (await gate, exchange(arg));
  const args = input();
  await withStubWorker(s.activities, async (taskQueue, client) => {
    const handle = await client.workflow.start(zendeskConnect, { taskQueue, workflowId: `t-${args.integrationId}`, args: [args] });
    await assert.rejects(handle.executeUpdate(submitConsentUpdate, { args: [{ flowId: randomUUID(), outcome: 'approved' }] }), WorkflowUpdateFailedError);
    // The first consent is accepted and still being worked on; a second one for the same attempt (another
    // update id, e.g. a second tab's callback) is refused by the validator.
    const first = await handle.startUpdate(submitConsentUpdate, { args: [{ flowId: args.flowId, outcome: 'approved' }], waitForStage: 'ACCEPTED' });
    await assert.rejects(handle.executeUpdate(submitConsentUpdate, { args: [{ flowId: args.flowId, outcome: 'denied' }] }), (err: WorkflowUpdateFailedError) =>
      /already received/.test(String(err.cause?.message)),
    );
    release();
    assert.equal((await first.result()).status, 'connected');
    await handle.result();
  });
  assert.deepEqual(s.names(), APPROVED_PATH);
});
