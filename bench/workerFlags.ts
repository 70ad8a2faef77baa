/**
 * The Node flags production starts the worker with, read from package.json's `start:worker` script (the
 * one source of truth; docker-compose.yml's worker command repeats it and test/unit/deployment.test.ts
 * checks the two agree). The bench starts its workers with these flags, so its headline memory rows
 * measure the worker as production runs it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
export const WORKER_ENTRY = 'dist/src/worker.js';

/** `${NAME}`, `${NAME:-default}` and `$NAME` as sh expands them (npm runs scripts with sh). */
export function expandShell(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, braced, fallback, bare) => {
    const value = env[braced ?? bare];
    if (fallback !== undefined) return value ? value : fallback;
    return value ?? '';
  });
}

/** The `start:worker` script as written in package.json. */
export function startWorkerScript(): string {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const script = pkg.scripts['start:worker'];
  if (script === undefined) throw new Error('package.json has no start:worker script');
  return script;
}

/** The Node flags between `node` and the worker's entry point, unexpanded (as written). */
export function startWorkerFlagsAsWritten(script: string = startWorkerScript()): string[] {
  const words = script.trim().split(/\s+/);
  if (words[0] !== 'node' || words.at(-1) !== WORKER_ENTRY) throw new Error(`start:worker is expected to be "node [flags] ${WORKER_ENTRY}", not "${script}"`);
  return words.slice(1, -1);
}

/** The Node flags the worker gets from `npm run start:worker` with this environment. */
export function productionWorkerNodeFlags(env: NodeJS.ProcessEnv = process.env, script?: string): string[] {
  return startWorkerFlagsAsWritten(script).map((flag) => expandShell(flag, env));
}
