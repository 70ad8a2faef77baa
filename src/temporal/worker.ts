import { existsSync } from 'node:fs';
import path from 'node:path';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { createWebhookActivities } from '../activities/webhooks';
import { contextualLogger } from '../observability/logContext';
import { activityLogContext } from '../activities/logContextInterceptor';
import { createProcessRateLimits } from '../zendesk/rateLimit/rateLimiter';
import { connectNativeTemporal } from './nativeConnection';
import { webhookTaskQueue } from './taskQueues';

/** Where the workflow bundle's entry lives (source under tsx, compiled JS under dist/). */
const WORKFLOWS_PATH = path.join(__dirname, '..', 'workflows', 'index');

/**
 * Where `npm run build` (scripts/bundle-workflows.ts) writes the prebuilt bundle: `dist/workflow-bundle.js`,
 * i.e. two levels above this file once compiled to `dist/src/temporal/worker.js`.
 */
export const PREBUILT_BUNDLE_PATH = path.join(__dirname, '..', '..', 'workflow-bundle.js');

const quietLogger = { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} };

/**
 * The workflow interceptors (log attributes, src/workflows/interceptors.ts) next to a workflows entry,
 * resolved like it: interceptors.ts under tsx, interceptors.js once compiled.
 */
function workflowInterceptorModules(workflowsPath: string): string[] {
  return [require.resolve(path.join(path.dirname(workflowsPath), 'interceptors'))];
}

/**
 * Bundles workflow code with its interceptors (a prebuilt bundle must include them: the SDK ignores
 * `interceptors.workflowModules` when given `workflowBundle`). Used by tests and the replay tests;
 * `npm run build` (scripts/bundle-workflows.ts) resolves the interceptors next to the entry the same way.
 */
export async function bundleWorkflows(workflowsPath: string = require.resolve(WORKFLOWS_PATH)) {
  return bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: workflowInterceptorModules(workflowsPath), logger: quietLogger });
}

/**
 * The prebuilt bundle to load, if any: WORKFLOW_BUNDLE_PATH when configured (it must exist), else
 * dist/workflow-bundle.js when this module runs compiled (never under tsx, where a bundle left by an
 * earlier build could be stale against the sources).
 */
export function prebuiltBundlePath(configured: string | undefined, compiled: boolean = __filename.endsWith('.js')): string | undefined {
  if (configured) {
    const resolved = path.resolve(configured);
    if (!existsSync(resolved)) throw new Error(`WORKFLOW_BUNDLE_PATH points at ${resolved}, which does not exist`);
    return resolved;
  }
  return compiled && existsSync(PREBUILT_BUNDLE_PATH) ? PREBUILT_BUNDLE_PATH : undefined;
}

export interface WorkerSetup {
  /** `rateLimits` is made here when not given: one worker is one process's share of Zendesk's budget. */
  deps: Omit<ActivityDeps, 'rateLimits'> & Partial<Pick<ActivityDeps, 'rateLimits'>>;
  connection?: NativeConnection;
  workflowBundle?: WorkerOptions['workflowBundle'];
  options?: Partial<WorkerOptions>;
}

/** The given or prebuilt bundle, else the workflows' entry to bundle (once, for both workers). */
function workflowSource(
  setup: WorkerSetup,
): { workflowBundle: NonNullable<WorkerOptions['workflowBundle']>; workflowsPath?: never } | { workflowBundle?: never; workflowsPath: string } {
  if (setup.workflowBundle) return { workflowBundle: setup.workflowBundle };
  const codePath = prebuiltBundlePath(setup.deps.config.workflowBundlePath);
  if (codePath) {
    setup.deps.logger.info({ workflowBundle: codePath }, 'using the prebuilt workflow bundle');
    return { workflowBundle: { codePath } };
  }
  return { workflowsPath: require.resolve(WORKFLOWS_PATH) };
}

/**
 * The two workers of a worker process, on one connection and one workflow bundle (bundled once when there
 * is no prebuilt one): the main one on TEMPORAL_TASK_QUEUE (syncs, connects, reclamations, housekeeping, and
 * any delivery started there before deliveries had their own queue), and the webhook one on
 * `webhookTaskQueue` (src/temporal/taskQueues.ts): delivery workflows and their attempts, with slots of their
 * own, so an attempt never waits behind sync chunks and a slow receiver never holds a sync's slot.
 */
export async function createWorkers(setup: WorkerSetup): Promise<{ worker: Worker; webhookWorker: Worker }> {
  const { config } = setup.deps;
  const connection = setup.connection ?? (await connectNativeTemporal(config));
  const source = workflowSource(setup);
  const workflowBundle = source.workflowBundle ?? (await bundleWorkflows(source.workflowsPath));
  const deps = { ...setup.deps, rateLimits: setup.deps.rateLimits ?? createProcessRateLimits(setup.deps.db) };
  const common = {
    connection,
    namespace: config.temporal.namespace,
    workflowBundle,
    // Activity log context: tenant, integration, workflow, activity on every line.
    interceptors: { activity: [activityLogContext(deps.db)] },
    // Chunks and attempts heartbeat every 2 s; send at least every 3 s so a short heartbeat timeout has slack.
    maxHeartbeatThrottleInterval: '3 seconds',
    shutdownGraceTime: '20 seconds',
  } satisfies Partial<WorkerOptions>;
  const worker = await Worker.create({
    ...common,
    taskQueue: config.temporal.taskQueue,
    activities: createActivities(deps),
    ...config.workerTuning,
    ...setup.options,
  });
  const webhookWorker = await Worker.create({
    ...common,
    taskQueue: webhookTaskQueue(config.temporal.taskQueue),
    activities: createWebhookActivities({ ...deps, logger: contextualLogger(deps.logger) }),
    maxConcurrentActivityTaskExecutions: WEBHOOK_ACTIVITY_SLOTS,
    maxConcurrentWorkflowTaskExecutions: 10,
    ...setup.options,
  });
  return { worker, webhookWorker };
}

/** Attempts at once per process: each is one HTTP POST (≤ WEBHOOK_ATTEMPT_TIMEOUT), cheap to run side by side. */
const WEBHOOK_ACTIVITY_SLOTS = 50;
