import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPayloadConverter } from '@temporalio/common';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { TENANT_ID } from '../../src/temporal/searchAttributes';
import { api, createTenant, followConsent, startSystem, waitFor, waitForSync, type System } from '../helpers/system';

/**
 * What an operator sees in the Temporal Web UI, read through the client's visibility API: a tenant's
 * connect flow and syncs found by `TenantId`, their one-line summaries, activity summaries, and the
 * current step and progress of a running sync.
 */
let system: System;

before(async () => {
  system = await startSystem();
});
after(() => system?.stop());

/** Visibility is eventually consistent: list until `done` says the listing is complete. */
async function listUntil(query: string, done: (found: WorkflowExecutionInfo[]) => boolean, timeoutMs = 30_000): Promise<WorkflowExecutionInfo[]> {
  let last: WorkflowExecutionInfo[] = [];
  await waitFor(
    `workflows matching ${query}`,
    async () => {
      last = [];
      for await (const execution of system.temporal.workflow.list({ query })) last.push(execution);
      return done(last);
    },
    timeoutMs,
  );
  return last;
}

test("a tenant's connect flow and syncs are found by TenantId, with summaries, activity summaries and live progress", async () => {
  // Rate limits of one users page and one ticket-events page a second keep the sync running long enough to watch.
  system.sandbox.createWorkspace({
    subdomain: 'visible',
    users: 3_000,
    ticketEvents: 8_000,
    seed: 61,
    consentMode: 'allow',
    usersCursorLimit: 1,
    incrementalLimit: 1,
  });
  const tenant = await createTenant(system);
  const other = await createTenant(system, 'another tenant');
  const created = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: 'visible' } });
  assert.equal(created.status, 201, created.text);
  const integrationId: string = created.json.id;
  assert.equal((await followConsent(created.json.authorizeUrl)).status, 200);

  // While the sync runs, its current details (served by a built-in query, as the Web UI reads them) show step and progress.
  const syncId = await waitFor('the first sync to start', async () => {
    const run = await system.db.selectFrom('sync_runs').select('workflow_id').where('integration_id', '=', integrationId).executeTakeFirst();
    return run?.workflow_id;
  });
  const details = await waitFor(
    'progress in the current details',
    async () => {
      const metadata = await system.temporal.workflow.getHandle(syncId).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      return metadata.currentDetails && /; users: [\d,]+ in \d+ pages \(done\)/.test(metadata.currentDetails) ? metadata.currentDetails : undefined;
    },
    30_000,
  );
  // Seat holders are read first (issue 16), then the end users: together the workspace's 3,000 users.
  const counts =
    /^Step: syncing\. seat holders: ([\d,]+) in \d+ pages \(done\); users: ([\d,]+) in \d+ pages \(done\); new ticket events: [\d,]+ in \d+ pages/.exec(
      details,
    );
  assert.ok(counts, details);
  assert.equal(Number(counts[1]!.replace(/,/g, '')) + Number(counts[2]!.replace(/,/g, '')), 3000, details);
  assert.doesNotMatch(details, /ticket events: [\d,]+ in \d+ pages \(done\)/, 'seen while the events were still being fetched');
  const run = await waitForSync(system, integrationId);
  assert.equal(run.status, 'succeeded', run.error ?? '');

  // Listing by TenantId finds the connect flow and the sync (and nothing of another tenant).
  const connectId = `zendesk-connect-${integrationId}`;
  const found = await listUntil(
    `TenantId = "${tenant.id}"`,
    (executions) =>
      executions.some((e) => e.workflowId === connectId && e.status.name === 'COMPLETED') &&
      executions.some((e) => e.workflowId === syncId && e.status.name === 'COMPLETED'),
  );
  for (const execution of found) {
    assert.equal(execution.typedSearchAttributes.get(TENANT_ID), tenant.id);
    assert.ok(
      execution.workflowId.startsWith(`zendesk-connect-${integrationId}`) || execution.workflowId.startsWith(`zendesk-sync-${integrationId}`),
      execution.workflowId,
    );
  }
  assert.deepEqual(await listUntil(`TenantId = "${other.id}"`, () => true), []);
  const byIntegration = await listUntil(
    `IntegrationId = "${integrationId}" AND ZendeskWorkspace = "visible" AND WorkflowType = "zendeskSync"`,
    (e) => e.length >= 1,
  );
  assert.ok(byIntegration.every((e) => e.workflowId.startsWith(`zendesk-sync-${integrationId}`)));

  // One-line summaries of each workflow and of the schedule's action.
  const connect = await system.temporal.workflow.getHandle(connectId).describe();
  assert.equal(await connect.staticSummary(), 'Connect Zendesk workspace visible');
  const sync = await system.temporal.workflow.getHandle(syncId).describe();
  assert.equal(await sync.staticSummary(), 'Sync Zendesk workspace visible');
  const schedule = await system.temporal.schedule.getHandle(`zendesk-sync-${integrationId}`).describe();
  assert.equal(schedule.typedSearchAttributes.get(TENANT_ID), tenant.id);
  assert.equal(schedule.action.type, 'startWorkflow');
  assert.equal((schedule.action as { staticSummary?: string }).staticSummary, 'Sync Zendesk workspace visible');

  // Activity summaries, as the UI shows them on each activity of the history.
  const summaries = async (workflowId: string) => {
    const history = await system.temporal.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes && e.userMetadata?.summary)
      .map((e) => defaultPayloadConverter.fromPayload<string>(e.userMetadata!.summary!));
  };
  assert.deepEqual(await summaries(connectId), [
    'Exchange the authorization code for tokens (kept apart until checked)',
    'Check that the approving user is a Zendesk admin',
    'Swap the new tokens in and mark the integration connected',
    'Create the sync schedule and start the first sync',
  ]);
  const syncSummaries = await summaries(syncId);
  assert.equal(syncSummaries[0], 'Open the sync run (skip if another sync is running)');
  assert.ok(syncSummaries.includes('Fetch users (from the saved cursor)'), syncSummaries.join(' | '));
  assert.ok(syncSummaries.includes('Fetch ticket events (from the saved position)'), syncSummaries.join(' | '));
  assert.equal(syncSummaries.at(-1), 'Record the run as succeeded');
  const finished = await system.temporal.workflow.getHandle(syncId).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  const done =
    /^Step: succeeded\. seat holders: ([\d,]+) in \d+ pages \(done\); users: ([\d,]+) in \d+ pages \(done\); new ticket events: [\d,]+ in \d+ pages \(done\); entitlements read: [\d,]+ \(done\)$/.exec(
      finished.currentDetails ?? '',
    );
  assert.ok(done, finished.currentDetails);
  assert.equal(Number(done[1]!.replace(/,/g, '')) + Number(done[2]!.replace(/,/g, '')), 3000, finished.currentDetails);
});
