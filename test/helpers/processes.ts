import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/**
 * Processes of the product run from source, shared by the tests (workerProcess.ts) and the benchmarks
 * (bench/harness.ts): `node <flags> --import tsx <script>` with the tail of its output kept for error
 * messages, a readiness wait and a stop.
 */

const ROOT = path.resolve(__dirname, '../..');

export interface ProductProcess {
  child: ChildProcess;
  /** The last `keepChars` of its stdout and stderr. */
  output(): string;
}

/** `script` relative to the repository root (or absolute); `env` goes over this process's environment. */
export function spawnTsx(script: string, opts: { env: Record<string, string>; nodeFlags?: string[]; keepChars?: number }): ProductProcess {
  const keepChars = opts.keepChars ?? 100_000;
  let output = '';
  const child = spawn(process.execPath, [...(opts.nodeFlags ?? []), '--import', 'tsx', path.resolve(ROOT, script)], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (c: Buffer) => (output = (output + c.toString()).slice(-keepChars));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return { child, output: () => output };
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Sends `signal` and resolves once the process has exited (at once if it already had). */
export function signalAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise<void>((resolve) => {
    if (exited(child)) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** SIGTERM, and SIGKILL if it is still there after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 25_000): Promise<void> {
  if (exited(child)) return;
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await signalAndWait(child, 'SIGTERM');
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `url` answers 2xx; throws with the output's tail if the process exits first or time runs out. */
export async function waitReady(url: string, proc: ProductProcess, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`${what} exited early (${proc.child.exitCode}): ${proc.output().slice(-3000)}`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not become ready: ${proc.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
