import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../scripts/test';
import type { System } from './system';

/** A real worker process (`src/worker.ts`) of a test system, so tests can SIGKILL it. */
export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startWorkerProcess(system: System): Promise<WorkerProcess> {
  const metricsPort = await freePort();
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../src/worker.ts')], {
    env: { ...process.env, ...system.env, METRICS_PORT: String(metricsPort), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-200_000)));
  child.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-200_000)));
  // Ready once its health endpoint answers.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`worker exited early (${child.exitCode}): ${output.slice(-2000)}`);
    const ready = await fetch(`http://127.0.0.1:${metricsPort}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`worker did not become ready: ${output.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    child,
    output: () => output,
    kill: (signal = 'SIGKILL') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}
