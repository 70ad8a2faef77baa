import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { offboardWorkflowId, zendeskOffboard } from '../../src/workflows/offboard';
import { withStubWorker } from '../helpers/temporal';

/** The offboard workflow alone: its steps in order, integrations a few at a time, long tenants across runs. */
function stubs(integrations: number, opts: { gone?: Set<number>; failFirstRevokes?: number } = {}) {
  const ids = Array.from({ length: integrations }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
  const calls: string[] = [];
  let running = 0;
  let maxRunning = 0;
  let revokeFailures = opts.failFirstRevokes ?? 0;
  return {
    calls,
    maxRunning: () => maxRunning,
    activities: {
      beginOffboard: async () => void calls.push('begin'),
      listTenantIntegrations: async (input: { after?: string; limit: number }) => {
        const start = input.after ? ids.indexOf(input.after) + 1 : 0;
        const page = ids.slice(start, start + input.limit);
        calls.push(`list:${page.length}`);
        return { integrationIds: page, next: start + input.limit < ids.length ? page.at(-1) : undefined };
      },
      disconnectAndPurge: async (input: { integrationId: string }) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return { skipped: opts.gone?.has(ids.indexOf(input.integrationId)) ?? false };
      },
      revokeTenantKeys: async () => {
        if (revokeFailures-- > 0) throw new Error('PostgreSQL unreachable');
        calls.push('revoke');
        return { revoked: 2 };
      },
      finishOffboard: async (input: { integrations: number }) => void calls.push(`finish:${input.integrations}`),
    },
  };
}

const run = (activities: Record<string, (...args: any[]) => Promise<unknown>>) =>
  withStubWorker(activities, async (taskQueue, client) => {
    const tenantId = randomUUID();
    await client.workflow.start(zendeskOffboard, { taskQueue, workflowId: offboardWorkflowId(tenantId), args: [{ tenantId }] });
    return client.workflow.getHandle(offboardWorkflowId(tenantId)).result(); // follows continue-as-new
  });

test('in order: keys refused, every integration disconnected and purged, keys revoked, offboarded', async () => {
  const s = stubs(12, { gone: new Set([3]) });
  const result = await run(s.activities);
  assert.deepEqual(s.calls, ['begin', 'list:12', 'revoke', 'finish:11']);
  assert.deepEqual(result, { integrations: 11, keysRevoked: 2 });
  assert.ok(s.maxRunning() <= 5 && s.maxRunning() > 1, `at most 5 disconnects at once (${s.maxRunning()})`);
});

test('a tenant with many integrations continues as new between pages; a failing step is retried until done', { timeout: 180_000 }, async () => {
  const s = stubs(1_010, { failFirstRevokes: 2 });
  const result = await run(s.activities);
  assert.equal(s.calls.filter((c) => c === 'begin').length, 1, 'the keys are refused once, in the first run');
  assert.equal(s.calls.filter((c) => c.startsWith('list:')).length, 21);
  assert.deepEqual(s.calls.slice(-2), ['revoke', 'finish:1010']);
  assert.deepEqual(result, { integrations: 1010, keysRevoked: 2 });
});

test('an empty tenant is offboarded at once', async () => {
  const s = stubs(0);
  assert.deepEqual(await run(s.activities), { integrations: 0, keysRevoked: 2 });
  assert.deepEqual(s.calls, ['begin', 'list:0', 'revoke', 'finish:0']);
});
