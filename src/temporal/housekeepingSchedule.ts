import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Logger } from '../logger';

/**
 * One housekeeping schedule per deployment, running the `housekeeping` workflow (src/workflows/housekeeping.ts)
 * every HOUSEKEEPING_INTERVAL (a day by default).
 *
 * Made by the **worker at start** (src/worker.ts, src/dev.ts), idempotently, not by `npm run temporal:setup`:
 * it must exist wherever workers run (docker-compose and other deployments never run our setup command),
 * and its action must name the task queue those workers poll and follow their HOUSEKEEPING_INTERVAL, which
 * only the worker's configuration knows. Every worker of a deployment makes the same one: the first creates
 * it, the others find it and set the same spec (a rolling deploy converges on the new workers' settings).
 * A pause set by an operator is kept.
 *
 * A deployment is a task queue: the default one's schedule is `zendesk-housekeeping`; another task queue's
 * is `zendesk-housekeeping-<queue>`, so two deployments sharing a namespace (or the tests' systems) never
 * take over each other's schedule, whose runs prune the database of the workers that poll that queue.
 */
const HOUSEKEEPING_WORKFLOW_TYPE = 'housekeeping';
const DEFAULT_TASK_QUEUE = 'zendesk-integration';

export const housekeepingScheduleId = (taskQueue: string) => (taskQueue === DEFAULT_TASK_QUEUE ? 'zendesk-housekeeping' : `zendesk-housekeeping-${taskQueue}`);

export interface HousekeepingScheduleSettings {
  taskQueue: string;
  intervalMs: number;
}

/** Creates the schedule, or brings an existing one to these settings. Returns its id. */
export async function ensureHousekeepingSchedule(client: Client, settings: HousekeepingScheduleSettings): Promise<string> {
  const scheduleId = housekeepingScheduleId(settings.taskQueue);
  const action = {
    type: 'startWorkflow' as const,
    workflowType: HOUSEKEEPING_WORKFLOW_TYPE,
    args: [],
    taskQueue: settings.taskQueue,
    workflowId: scheduleId,
    staticSummary: 'Housekeeping: prune expired and old rows, purge data past its retention',
    // A run longer than the interval is a problem to look at, not one to pile up behind.
    workflowRunTimeout: Math.max(settings.intervalMs, 6 * 3_600_000),
  };
  const spec = { intervals: [{ every: settings.intervalMs }] };
  // SKIP: never two runs at once. A missed run (Temporal down) is caught up once within an hour, not replayed.
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: Math.min(settings.intervalMs, 3_600_000) };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies, state: { note: 'Created by a worker at start' } });
    return scheduleId;
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action, policies: { ...previous.policies, ...policies } }));
  return scheduleId;
}

/**
 * At worker start: ensures the schedule, retrying in the background while Temporal does not answer (the
 * worker itself is useful meanwhile). Resolves once made; `stop()` gives up retrying.
 */
export function keepHousekeepingSchedule(
  client: Client,
  settings: HousekeepingScheduleSettings | undefined,
  logger: Logger,
): { ready: Promise<void>; stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  const attempt = (delayMs: number) => {
    if (stopped) return;
    ensureHousekeepingSchedule(client, settings!).then(
      (scheduleId) => {
        logger.info({ scheduleId, intervalMs: settings!.intervalMs }, 'housekeeping schedule ready');
        resolveReady();
      },
      (err) => {
        if (stopped) return;
        logger.warn({ err: (err as Error).message, retryInMs: delayMs }, 'could not create or update the housekeeping schedule; retrying');
        timer = setTimeout(() => attempt(Math.min(delayMs * 2, 300_000)), delayMs);
        timer.unref();
      },
    );
  };
  if (settings) attempt(5_000);
  else {
    logger.info('housekeeping schedule off (HOUSEKEEPING_INTERVAL=off)');
    resolveReady();
  }
  return {
    ready,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      resolveReady();
    },
  };
}
