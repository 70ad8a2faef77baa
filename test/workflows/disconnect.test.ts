import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { zendeskDisconnect } from '../../src/workflows/disconnect';
import { withStubWorker } from '../helpers/temporal';

/** The disconnect workflow alone: the order of its steps, the purge in slices, retries until done. */
function stubs(opts: { slices?: number; failFirstStops?: number; outcome?: 'revoked' | 'refused' } = {}) {
  const calls: string[] = [];
  let slices = 0;
  let stopFailures = opts.failFirstStops ?? 0;
  const grantMayBeLive = opts.outcome === 'refused';
  return {
    calls,
    activities: {
      beginDisconnect: async () => void calls.push('begin'),
      stopSyncing: async () => {
        if (stopFailures-- > 0) throw new Error('Temporal visibility unavailable');
        calls.push('stop');
        return { syncsStopped: 0 };
      },
      revokeGrant: async () => (
        calls.push('revoke'),
        {
          outcome: opts.outcome ?? 'revoked',
          revokedAtZendesk: !grantMayBeLive,
          grantMayBeLive,
          message: grantMayBeLive ? 'refused: remove it by hand' : 'revoked',
        }
      ),
      purgeSyncedDataSlice: async () => (calls.push('purge'), { done: ++slices >= (opts.slices ?? 1), deleted: 10 }),
      finishDisconnect: async (input: { error: string | null }) => void calls.push(`finish:${input.error ?? 'ok'}`),
    },
  };
}

const run = (activities: Record<string, (...args: any[]) => Promise<unknown>>, purge: boolean) =>
  withStubWorker(activities, (taskQueue, client) =>
    client.workflow.execute(zendeskDisconnect, { taskQueue, workflowId: `zendesk-disconnect-${randomUUID()}`, args: [{ integrationId: randomUUID(), purge }] }),
  );

test('the workflow owns the whole disconnect, in order, the purge in as many slices as it takes', async () => {
  const s = stubs({ slices: 3 });
  const result = await run(s.activities, true);
  assert.deepEqual(s.calls, ['begin', 'stop', 'revoke', 'purge', 'purge', 'purge', 'finish:ok']);
  assert.equal(result.purged, true);
  assert.equal(result.revocation?.outcome, 'revoked');
});

test('a refused revocation still finishes the disconnect, and the integration keeps the sentence saying so', async () => {
  const s = stubs({ outcome: 'refused' });
  const result = await run(s.activities, false);
  assert.deepEqual(s.calls, ['begin', 'stop', 'revoke', 'finish:refused: remove it by hand']);
  assert.equal(result.revocation?.grantMayBeLive, true);
});

test('a step that fails (an outage) is retried until it succeeds, not given up after a few attempts', { timeout: 120_000 }, async () => {
  const s = stubs({ failFirstStops: 5 }); // the old policy gave up after 5 attempts
  await run(s.activities, false);
  assert.deepEqual(s.calls, ['begin', 'stop', 'revoke', 'finish:ok']);
});
