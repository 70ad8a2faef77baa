import type { ChildProcess } from 'node:child_process';
import { signalAndWait, spawnTsx } from './processes';
import type { System } from './system';

/** A real worker process (`src/worker.ts`) of a test system, so tests can SIGKILL it. */
export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  /** The port its metrics/health server bound (METRICS_PORT=0: chosen by the OS, read from its "worker started" line). */
  metricsPort: number;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** The `metricsPort` of the worker's `"msg":"worker started"` JSON log line, once a complete one is in `output`. */
export function boundMetricsPort(output: string): number | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes('"worker started"') || !line.endsWith('}')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: unknown; metricsPort?: unknown };
      if (entry.msg === 'worker started' && typeof entry.metricsPort === 'number' && entry.metricsPort > 0) return entry.metricsPort;
    } catch {
      // a line that is not JSON (or not complete yet)
    }
  }
  return undefined;
}

/** `env` overrides the system's (e.g. another ENCRYPTION_KEYS, as a rolling deploy would). */
export async function startWorkerProcess(system: System, options: { env?: Record<string, string> } = {}): Promise<WorkerProcess> {
  // METRICS_PORT=0: the OS picks a free port at bind time and the worker logs it. (Probing a free port here and
  // passing it on left a window in which another process could take it.)
  const { child, output } = spawnTsx('src/worker.ts', { env: { ...system.env, METRICS_PORT: '0', LOG_LEVEL: 'info', ...options.env }, keepChars: 200_000 });
  // The start line is looked for in the whole stdout seen so far (the tail kept for output() may have dropped it).
  let metricsPort: number | undefined;
  let pendingLine = '';
  child.stdout!.on('data', (c: Buffer) => {
    const text = c.toString();
    if (metricsPort === undefined) {
      pendingLine += text;
      const complete = pendingLine.slice(0, pendingLine.lastIndexOf('\n') + 1);
      pendingLine = pendingLine.slice(complete.length);
      metricsPort = boundMetricsPort(complete);
    }
  });
  // Ready once it has said where its health endpoint is and that endpoint answers ready.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`worker exited early (${child.exitCode}): ${output().slice(-2000)}`);
    const ready =
      metricsPort !== undefined &&
      (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).then(
        (r) => r.ok,
        () => false,
      ));
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `worker did not become ready${metricsPort === undefined ? ' (no "worker started" line with its metricsPort)' : ''}: ${output().slice(-2000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    child,
    output,
    metricsPort: metricsPort!,
    kill: (signal = 'SIGKILL') => signalAndWait(child, signal),
  };
}
