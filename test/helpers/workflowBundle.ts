import type { WorkerOptions } from '@temporalio/worker';
import { bundleWorkflows } from '../../src/temporal/worker';

let bundled: WorkerOptions['workflowBundle'] | undefined;

/**
 * The workflow code for test workers: the run's bundle, built once by scripts/test.ts (WORKFLOW_BUNDLE_PATH),
 * or — for a file run some other way — bundled here once per process. Bundling takes seconds; doing it once
 * per run instead of once per file is a large part of the suite's time.
 */
export async function testWorkflowBundle(): Promise<NonNullable<WorkerOptions['workflowBundle']>> {
  const codePath = process.env.WORKFLOW_BUNDLE_PATH;
  if (codePath) return { codePath };
  bundled ??= await bundleWorkflows();
  return bundled;
}
