/**
 * Prebuilds the workflow bundle at build time (`npm run build`, and the Docker image's build stage), so
 * a worker starts without running webpack: `createWorkers` loads `dist/workflow-bundle.js` when it runs
 * compiled code (or WORKFLOW_BUNDLE_PATH when set).
 *
 *   tsx scripts/bundle-workflows.ts [workflowsPath] [outFile]
 *   defaults: dist/src/workflows/index.js → dist/workflow-bundle.js
 *
 * The workflow interceptors (`interceptors.js` next to the workflows' entry: log lines with tenant and
 * integration) are bundled in too: a worker loading a prebuilt bundle ignores `interceptors.workflowModules`.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const ROOT = path.resolve(__dirname, '..');

async function main(): Promise<void> {
  const workflowsPath = path.resolve(process.argv[2] ?? path.join(ROOT, 'dist', 'src', 'workflows', 'index.js'));
  const outFile = path.resolve(process.argv[3] ?? path.join(ROOT, 'dist', 'workflow-bundle.js'));
  if (!existsSync(workflowsPath)) {
    throw new Error(`${workflowsPath} does not exist: compile first (tsc -p tsconfig.build.json)`);
  }
  // Resolved like the entry (interceptors.js once compiled, interceptors.ts under tsx).
  const interceptorsPath = require.resolve(path.join(path.dirname(workflowsPath), 'interceptors'));
  const started = Date.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: [interceptorsPath],
    logger: { trace() {}, debug() {}, info() {}, log() {}, warn: console.warn, error: console.error },
  });
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, code);
  console.log(`workflow bundle: ${path.relative(ROOT, outFile)} (${Math.round(code.length / 1024)} KiB, ${Date.now() - started} ms)`);
}

main().catch((err) => {
  console.error(`bundling workflows failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
