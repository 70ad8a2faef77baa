import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { searchAttributesFor } from './searchAttributes';

/**
 * One Temporal Schedule per connected integration, `zendesk-sync-<integrationId>`. Overlap SKIP keeps at
 * most one sync of an integration running; the catch-up window stops a long outage from replaying a
 * backlog of syncs; jitter spreads many tenants over the interval.
 */
export interface SyncTarget {
  integrationId: string;
  tenantId: string;
  workspace: string;
}

const SYNC_WORKFLOW_TYPE = 'zendeskSync';
/** How long POST /sync waits for a sync that has closed its run but not yet its workflow. */
const WRAP_UP_WAIT_MS = 5_000;
export const syncScheduleId = (integrationId: string) => `zendesk-sync-${integrationId}`;

export interface ScheduleSettings {
  taskQueue: string;
  intervalMs: number;
  /** The sync workflow's run shape (SyncInput); defaults to the workflow's own. */
  run?: { chunkMs: number; chunksPerRun: number; chunkAttempts?: number };
}

/** Creates the schedule (or updates and unpauses an existing one) and starts a sync now. Idempotent. */
export async function ensureSyncSchedule(client: Client, target: SyncTarget, settings: ScheduleSettings): Promise<void> {
  const scheduleId = syncScheduleId(target.integrationId);
  const action = {
    type: 'startWorkflow' as const,
    workflowType: SYNC_WORKFLOW_TYPE,
    args: [{ ...target, ...settings.run }],
    taskQueue: settings.taskQueue,
    workflowId: scheduleId,
    typedSearchAttributes: searchAttributesFor(target),
    staticSummary: `Sync Zendesk workspace ${target.workspace}`,
  };
  const spec = { intervals: [{ every: settings.intervalMs }], jitter: Math.min(Math.floor(settings.intervalMs / 10), 10 * 60_000) };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: Math.max(60_000, Math.min(settings.intervalMs, 3_600_000)) };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      policies,
      typedSearchAttributes: searchAttributesFor(target),
      state: { triggerImmediately: true, note: 'Created when the integration connected' },
    });
    return;
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(scheduleId);
  // The update carries the schedule's state too: unpaused here, because the scheduler applies a pending patch
  // (the unpause below) before a pending update, and an update that copied `paused: true` from `previous` then
  // paused it again (a reconnect from needs_reauth left the schedule paused; test/e2e/reconnect.test.ts).
  await handle.update((previous) => ({
    ...previous,
    spec,
    action,
    policies: { ...previous.policies, ...policies },
    state: { ...previous.state, paused: false, note: 'Integration connected again' },
  }));
  await handle.unpause('Integration connected again');
  // SKIP: the SDK's default for a trigger is ALLOW_ALL, which would start a sync beside a running one.
  await handle.trigger(ScheduleOverlapPolicy.SKIP);
}

export async function pauseSyncSchedule(client: Client, integrationId: string, note: string): Promise<void> {
  try {
    await client.schedule.getHandle(syncScheduleId(integrationId)).pause(note);
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
}

export async function deleteSyncSchedule(client: Client, integrationId: string): Promise<void> {
  try {
    await client.schedule.getHandle(syncScheduleId(integrationId)).delete();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
}

/**
 * The running sync if there is one, else a new one through the schedule (so overlap rules still apply).
 * `wrappingUp(workflowId)`: whether that sync has already closed its run record. A sync the schedule still
 * shows as running but whose run is closed is only wrapping up: it is waited for (briefly), and a new one
 * started, instead of being joined and the caller left waiting for a sync that has already ended. (A sync
 * with no run record yet has just started: it is joined.)
 */
export async function triggerSync(
  client: Client,
  integrationId: string,
  options: { wrappingUp?: (workflowId: string) => Promise<boolean> } = {},
): Promise<{ workflowId: string; runId: string } | undefined> {
  const handle = client.schedule.getHandle(syncScheduleId(integrationId));
  let before = await handle.describe();
  const current = before.info.runningActions[0];
  let ended: string | undefined;
  if (current && (await options.wrappingUp?.(current.workflow.workflowId))) {
    const done = await Promise.race([
      client.workflow
        .getHandle(current.workflow.workflowId)
        .result()
        .then(
          () => true,
          () => true,
        ),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), WRAP_UP_WAIT_MS).unref()),
    ]);
    // The schedule learns of the end a moment later; a sync seen ending is not joined.
    if (done) ended = current.workflow.workflowId;
    before = await handle.describe();
    // Until the schedule has noticed too: its SKIP would otherwise skip our trigger.
    for (let i = 0; i < 30 && ended && before.info.runningActions.some((a) => a.workflow.workflowId === ended); i++) {
      await new Promise((r) => setTimeout(r, 100));
      before = await handle.describe();
    }
  }
  const still = before.info.runningActions.find((a) => a.workflow.workflowId !== ended);
  if (still) return { workflowId: still.workflow.workflowId, runId: still.workflow.firstExecutionRunId };
  // Actions the schedule took before our trigger: a new one in `recentActions` is ours even when it already
  // finished between two looks (a sync that finds another sync running ends at once as "skipped").
  const known = new Set(before.info.recentActions.map((a) => a.action.workflow.workflowId));
  await handle.trigger(ScheduleOverlapPolicy.SKIP);
  // The schedule starts the workflow asynchronously; wait briefly for it to appear.
  for (let i = 0; i < 40; i++) {
    const { info } = await handle.describe();
    const action = info.runningActions[0]?.workflow ?? info.recentActions.find((a) => !known.has(a.action.workflow.workflowId))?.action.workflow;
    if (action) return { workflowId: action.workflowId, runId: action.firstExecutionRunId };
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

/** When the schedule will next start a sync (null when paused or absent). */
export async function nextSyncAt(client: Client, integrationId: string): Promise<Date | null> {
  try {
    const description = await client.schedule.getHandle(syncScheduleId(integrationId)).describe();
    if (description.state.paused) return null;
    return description.info.nextActionTimes[0] ?? null;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return null;
    throw err;
  }
}
