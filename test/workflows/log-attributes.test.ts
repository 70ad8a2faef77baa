import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import { searchAttributesFor } from '../../src/temporal/searchAttributes';
import { zendeskSync, type SyncInput } from '../../src/workflows/sync';
import { withStubWorker } from '../helpers/temporal';

/**
 * The workflow interceptors (src/workflows/interceptors.ts) add the tenant, integration and workspace to
 * every log line a workflow writes, the SDK's own included: from the search attributes, else the input.
 * This file's process has a Runtime of its own whose logger keeps every entry.
 */
const entries: LogEntry[] = [];

before(() => {
  Runtime.install({ logger: new DefaultLogger('DEBUG', (entry) => void entries.push(entry)) });
});

const stubs = {
  beginSync: async () => ({ syncRunId: 'run-1' }),
  syncUsersChunk: async () => ({ done: true, pages: 1, records: 10 }),
  syncTicketEventsChunk: async () => ({ done: true, pages: 1, records: 10 }),
  syncEntitlementsChunk: async () => ({ done: true, pages: 1, records: 1 }),
  syncSeatHoldersChunk: async () => ({ done: true, pages: 1, records: 1 }),
  finishSync: async () => undefined,
  markNeedsReauth: async () => undefined,
};

function workflowLines(workflowId: string): LogEntry[] {
  // Workflow lines (not activity lines, which also name the workflow) of this run and its continuations.
  return entries.filter((e) => e.meta?.workflowId === workflowId && e.meta?.activityType === undefined);
}

async function runSync(input: SyncInput, attributes?: Parameters<typeof searchAttributesFor>[0]): Promise<LogEntry[]> {
  const workflowId = `zendesk-sync-${input.integrationId}-${randomUUID()}`;
  await withStubWorker(stubs, (taskQueue, client) =>
    client.workflow.execute(zendeskSync, {
      taskQueue,
      workflowId,
      args: [input],
      ...(attributes ? { typedSearchAttributes: searchAttributesFor(attributes) } : {}),
    }),
  );
  await new Promise((r) => setTimeout(r, 100));
  return workflowLines(workflowId);
}

test('every workflow log line carries the ids from its search attributes, across continue-as-new', async () => {
  const ids = { tenantId: randomUUID(), integrationId: randomUUID(), workspace: 'acme' };
  // The input names other ids: the search attributes (set by the API and the schedule) win.
  const lines = await runSync({ ...ids, tenantId: 'from-input', chunksPerRun: 1 }, ids);
  const messages = lines.map((l) => l.message);
  assert.ok(messages.includes('Workflow started'), messages.join(', '));
  assert.ok(messages.includes('Workflow continued as new'), messages.join(', '));
  assert.ok(messages.includes('Workflow completed'), messages.join(', '));
  for (const line of lines) {
    assert.equal(line.meta?.tenantId, ids.tenantId, `${line.message}: ${JSON.stringify(line.meta)}`);
    assert.equal(line.meta?.integrationId, ids.integrationId, line.message);
    assert.equal(line.meta?.workspace, 'acme', line.message);
  }
});

test('without search attributes the ids come from the input', async () => {
  const input = { tenantId: randomUUID(), integrationId: randomUUID(), workspace: 'beta' };
  const lines = await runSync(input);
  const completed = lines.find((l) => l.message === 'Workflow completed');
  assert.ok(completed, lines.map((l) => l.message).join(', '));
  assert.equal(completed.meta?.tenantId, input.tenantId);
  assert.equal(completed.meta?.integrationId, input.integrationId);
  assert.equal(completed.meta?.workspace, 'beta');
});
