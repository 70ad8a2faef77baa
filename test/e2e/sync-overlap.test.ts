import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { syncProgressQuery } from '../../src/workflows/messages';
import { ensureSyncSchedule, syncScheduleId } from '../../src/temporal/syncSchedule';
import { api, createTenant, followConsent, startSystem, waitFor, type System } from '../helpers/system';
import { differences } from '../helpers/expectations';
import { readPlan } from '../../src/activities/ticketEventsPlan';

/**
 * A sync long enough to continue as new many times (1 s chunks, 2 chunks per run), and every way another
 * sync can be asked for while it runs: POST /sync, what a completed reconnect does to the schedule, and
 * direct schedule triggers (the SDK's default overlap for a trigger is ALLOW_ALL). At every moment at most
 * one sync of the integration is at work; the ticket-events position only moves forward; the data ends exact.
 */
let system: System;

before(async () => {
  system = await startSystem({ env: { SYNC_CHUNK_SECONDS: '1', SYNC_CHUNKS_PER_RUN: '2' } });
});
after(() => system?.stop());

/**
 * zendeskSync workflows of the integration that are running and past beginSync (step "syncing"), by workflow
 * id. One id is one sync: its continued-as-new runs keep it, and Temporal refuses a second start of an id while
 * one runs. Visibility lags a continue-as-new (the closed run is still listed as running for a moment, beside
 * its successor), so the listing can name one id twice: counted once.
 */
async function syncsAtWork(integrationId: string): Promise<string[]> {
  const atWork = new Set<string>();
  const query = `WorkflowType = "zendeskSync" AND IntegrationId = "${integrationId}" AND ExecutionStatus = "Running"`;
  for await (const wf of system.temporal.workflow.list({ query })) {
    if (atWork.has(wf.workflowId)) continue;
    const progress = await system.temporal.workflow
      .getHandle(wf.workflowId)
      .query(syncProgressQuery)
      .catch(() => undefined);
    if (progress?.step === 'syncing') atWork.add(wf.workflowId);
  }
  return [...atWork];
}

test('a sync that continues as new is never joined by a second one: POST /sync, a reconnect, direct triggers', async () => {
  const ws = system.sandbox.createWorkspace({
    subdomain: 'longsync',
    users: 6_000,
    ticketEvents: 40_000,
    seed: 41,
    consentMode: 'allow',
    // 2 requests per window for the integration, at its default budget share of 0.8 (floor(3 × 0.8)).
    usersCursorLimit: 3,
    incrementalLimit: 3,
  });
  const tenant = await createTenant(system);
  const created = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: 'longsync' } });
  assert.equal(created.status, 201, created.text);
  const id: string = created.json.id;
  assert.equal((await followConsent(created.json.authorizeUrl)).status, 200);

  // Wait until the first sync has continued as new at least once.
  const first = await waitFor('the first sync to continue as new', async () => {
    const run = await system.db.selectFrom('sync_runs').selectAll().where('integration_id', '=', id).where('status', '=', 'running').executeTakeFirst();
    if (!run) return undefined;
    const d = await system.temporal.workflow.getHandle(run.workflow_id).describe();
    return d.runId !== run.run_id ? run : undefined;
  });

  const samples: string[][] = [];
  // The ticket-events checkpoint is a plan (newest window first): its head only moves forward and what is left
  // of the backfill only shrinks.
  const positions: Array<{ head: number; backfillLeft: number }> = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push(await syncsAtWork(id));
      const cp = await system.db
        .selectFrom('sync_checkpoints')
        .select('position')
        .where('integration_id', '=', id)
        .where('stream', '=', 'ticket_events')
        .executeTakeFirst();
      if (cp) {
        const plan = readPlan(cp.position, Math.floor(Date.now() / 1000), 90);
        positions.push({ head: plan.head, backfillLeft: plan.pending.reduce((sum, w) => sum + (w.to - w.at), 0) });
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  })();

  const schedule = system.temporal.schedule.getHandle(syncScheduleId(id));
  const viaApi = await api(system, 'POST', `/v1/integrations/${id}/sync`, { key: tenant.apiKey });
  assert.equal(viaApi.status, 202, viaApi.text);
  assert.equal(viaApi.json.workflowId, first.workflow_id, `POST /sync joins the running sync (${JSON.stringify(viaApi.json)} vs ${first.workflow_id})`);
  // A reconnect that completes (connect workflow → tokens swapped → startSyncing), then raw triggers.
  const reconnect = await api(system, 'POST', `/v1/integrations/${id}/reconnect`, { key: tenant.apiKey });
  assert.equal(reconnect.status, 200, reconnect.text);
  assert.equal((await followConsent(reconnect.json.authorizeUrl)).status, 200);
  await waitFor(
    'the reconnect to complete',
    async () => (await api(system, 'GET', `/v1/integrations/${id}`, { key: tenant.apiKey })).json.reconnect?.status === 'completed',
  );
  // What it does to the schedule, once more by hand (a retried startSyncing).
  await ensureSyncSchedule(
    system.temporal,
    { integrationId: id, tenantId: tenant.id, workspace: 'longsync' },
    {
      taskQueue: system.config.temporal.taskQueue,
      intervalMs: system.config.syncIntervalMs,
      run: system.config.syncRun,
    },
  );
  await schedule.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
  await new Promise((r) => setTimeout(r, 1_500));
  await schedule.trigger(ScheduleOverlapPolicy.ALLOW_ALL);

  await waitFor(
    'every sync to end',
    async () => {
      const running = await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', id).where('status', '=', 'running').execute();
      return running.length === 0 && (await syncsAtWork(id)).length === 0;
    },
    180_000,
  );
  sampling = false;
  await sampler;

  assert.ok(samples.length > 5, `sampled ${samples.length} times`);
  const overlaps = samples.filter((ids) => ids.length > 1);
  assert.deepEqual(overlaps, [], `two syncs at work at once (${overlaps.length} of ${samples.length} samples)`);
  for (let i = 1; i < positions.length; i++) {
    const [prev, next] = [positions[i - 1]!, positions[i]!];
    assert.ok(
      next.head >= prev.head && next.backfillLeft <= prev.backfillLeft,
      `the ticket-events position went back: ${JSON.stringify(prev)} → ${JSON.stringify(next)}`,
    );
  }
  const runs = await system.db.selectFrom('sync_runs').selectAll().where('integration_id', '=', id).orderBy('started_at').execute();
  assert.deepEqual(
    runs.filter((r) => /Interrupted/.test(r.error ?? '')).map((r) => r.workflow_id),
    [],
    'a live sync was closed as interrupted',
  );
  const firstRun = runs.find((r) => r.id === first.id)!;
  assert.equal(firstRun.status, 'succeeded', firstRun.error ?? '');
  for (let i = 1; i < runs.length; i++) assert.ok(runs[i]!.started_at >= runs[i - 1]!.finished_at!, `run ${i} started before run ${i - 1} finished`);
  assert.deepEqual(await differences(system.db, id, ws), []);
});
