import { bundleWorkflows } from '../../src/temporal/worker';

/**
 * The workflow code exactly as production runs it: `bundleWorkflows()` of src/temporal/worker.ts is what
 * `createWorkers` and `npm run build` (scripts/bundle-workflows.ts) use — the workflows' entry plus the
 * workflow interceptor module (src/workflows/interceptors.ts) bundled in. (A worker that bundles at start
 * passes the same module as `interceptors.workflowModules`; with a prebuilt bundle, as here, the bundler
 * must include it: the SDK ignores `interceptors.workflowModules` when `workflowBundle` is set.)
 *
 * `workflowsPath` lets test/replay/replay.test.ts bundle a deliberately changed copy of the workflows.
 */
export function productionWorkflowBundle(workflowsPath?: string) {
  return bundleWorkflows(workflowsPath);
}
