import path from 'node:path';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';

/** Where the workflow bundle's entry lives (source under tsx, compiled JS under dist/). */
export const WORKFLOWS_PATH = path.join(__dirname, '..', 'workflows', 'index');

/** Bundles workflow code once; workers in tests and production reuse the bundle. */
export async function bundleWorkflows() {
  return bundleWorkflowCode({ workflowsPath: require.resolve(WORKFLOWS_PATH), logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} } as any });
}

export interface WorkerSetup {
  deps: ActivityDeps;
  connection?: NativeConnection;
  workflowBundle?: WorkerOptions['workflowBundle'];
  options?: Partial<WorkerOptions>;
}

export async function createWorker(setup: WorkerSetup): Promise<Worker> {
  const { config } = setup.deps;
  const connection = setup.connection ?? (await NativeConnection.connect({ address: config.temporal.address }));
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath: require.resolve(WORKFLOWS_PATH) }),
    activities: createActivities(setup.deps),
    maxConcurrentActivityTaskExecutions: 50,
    shutdownGraceTime: '20 seconds',
    ...setup.options,
  });
}
