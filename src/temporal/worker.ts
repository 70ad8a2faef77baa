import { existsSync } from 'node:fs';
import path from 'node:path';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { activityLogContext } from '../activities/logContextInterceptor';
import { connectNativeTemporal } from './nativeConnection';

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
  deps: ActivityDeps;
  connection?: NativeConnection;
  workflowBundle?: WorkerOptions['workflowBundle'];
  options?: Partial<WorkerOptions>;
}

function workflowSource(setup: WorkerSetup): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> & { workflowModules?: string[] } {
  if (setup.workflowBundle) return { workflowBundle: setup.workflowBundle };
  const codePath = prebuiltBundlePath(setup.deps.config.workflowBundlePath);
  if (codePath) {
    setup.deps.logger.info({ workflowBundle: codePath }, 'using the prebuilt workflow bundle');
    return { workflowBundle: { codePath } };
  }
  const workflowsPath = require.resolve(WORKFLOWS_PATH);
  return { workflowsPath, workflowModules: workflowInterceptorModules(workflowsPath) };
}

export async function createWorker(setup: WorkerSetup): Promise<Worker> {
  const { config } = setup.deps;
  const connection = setup.connection ?? (await connectNativeTemporal(config));
  const { workflowModules, ...source } = workflowSource(setup);
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...source,
    // Activity log context (tenant, integration, workflow, activity on every line) and, when the worker
    // bundles at start, the workflow interceptors.
    interceptors: { activity: [activityLogContext(setup.deps.db)], ...(workflowModules ? { workflowModules } : {}) },
    activities: createActivities(setup.deps),
    ...config.workerTuning,
    // Chunks heartbeat every 2 s; send at least every 3 s so a short heartbeat timeout has slack.
    maxHeartbeatThrottleInterval: '3 seconds',
    shutdownGraceTime: '20 seconds',
    ...setup.options,
  });
}
