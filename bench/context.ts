import { spawn } from 'node:child_process';
import path from 'node:path';
import { log, ROOT, runDurationMs, type Harness, type WorkerHandle } from './harness';
import type { FloorResult } from './rawFloor';

/** Sizes of one preset. `small` finishes in a few minutes on 2 cores; `full` runs the sizes. */
export interface Preset {
  name: 'small' | 'full';
  /** `repeats` alternating rounds of product and raw floor; the best of each is compared. */
  throughput: { users: number; events: number; repeats: number };
  /** Scenario 5 compares scenario 1's peak RSS with a sync of this (10× smaller) workspace. */
  memoryBaseline: { users: number; events: number };
  rateLimited: { users: number; events: number; windowMs: number };
  noChange: { repeats: number };
  fanout: { workspaces: number; users: number; events: number };
  /** Scenario 11: workspaces connected and synced at once, without and then with a webhook endpoint. */
  webhooks: { workspaces: number; users: number; events: number };
  apiLoad: { connections: number; durationS: number };
  /** Scenario 8 (issue 16): a B2C account, few seat holders among many end users, events over `days`. */
  bigAccount: { users: number; seatHolders: number; events: number; days: number; windowMs: number };
}

export const PRESETS: Record<Preset['name'], Preset> = {
  small: {
    name: 'small',
    throughput: { users: 10_000, events: 100_000, repeats: 2 },
    memoryBaseline: { users: 1_000, events: 10_000 },
    rateLimited: { users: 10_000, events: 100_000, windowMs: 2_000 },
    noChange: { repeats: 3 },
    fanout: { workspaces: 50, users: 1_000, events: 1_000 },
    webhooks: { workspaces: 50, users: 200, events: 200 },
    apiLoad: { connections: 100, durationS: 8 },
    // Run only when asked (--only=bigaccount): the full preset's ratios, 50× smaller.
    bigAccount: { users: 20_000, seatHolders: 100, events: 40_000, days: 90, windowMs: 2_000 },
  },
  full: {
    name: 'full',
    throughput: { users: 100_000, events: 1_000_000, repeats: 2 },
    memoryBaseline: { users: 10_000, events: 100_000 },
    rateLimited: { users: 100_000, events: 1_000_000, windowMs: 2_000 },
    noChange: { repeats: 5 },
    fanout: { workspaces: 500, users: 1_000, events: 1_000 },
    webhooks: { workspaces: 500, users: 200, events: 200 },
    apiLoad: { connections: 100, durationS: 30 },
    bigAccount: { users: 1_000_000, seatHolders: 5_000, events: 2_000_000, days: 90, windowMs: 2_000 },
  },
};

/** One line of a scenario's table. */
export interface Row {
  metric: string;
  value: string;
  target?: string;
  /** Whether the target is met (absent when the row has no target). */
  met?: boolean;
}

export interface ScenarioResult {
  title: string;
  /** Machine-readable numbers (results.json). */
  metrics: Record<string, unknown>;
  rows: Row[];
  notes?: string[];
}

export interface SyncedWorkspace {
  subdomain: string;
  integrationId: string;
  users: number;
  events: number;
}

export interface Context {
  h: Harness;
  preset: Preset;
  results: Record<string, ScenarioResult>;
  /** Scenario 1's synced workspace (shared by the no-change and API scenarios). */
  synced?: SyncedWorkspace;
  /** Scenario 1's worker memory, for scenario 5. */
  throughputMemory?: {
    readyRss: number;
    peakRss: number;
    hwm: number;
    heap: { heapTotal: number; heapUsed: number; external: number };
    users: number;
    events: number;
    /** [s, rss MB, heap total MB, heap used MB] once a second. */
    series: Array<[number, number, number, number]>;
  };
}

export interface Scenario {
  name: string;
  title: string;
  /** Scenarios whose results this one reads (run first when selected with --only). */
  needs?: string[];
  /** Left out of a plain `npm run bench`: runs with `--full` or when named in `--only`. */
  whenAsked?: boolean;
  run(ctx: Context): Promise<ScenarioResult>;
}

/** Connects a workspace and waits for its first sync; fails unless it succeeded. */
export async function connectAndSync(h: Harness, subdomain: string) {
  const started = performance.now();
  const integrationId = await h.connect(subdomain);
  const run = await h.waitForSync(integrationId, { pollMs: 50 });
  const wallMs = performance.now() - started;
  if (run.status !== 'succeeded') throw new Error(`the sync of ${subdomain} ${run.status}: ${run.error}`);
  return { integrationId, run, wallMs, syncMs: runDurationMs(run) };
}

/** A synced workspace of the throughput size: scenario 1's, or a new one synced by a temporary worker. */
export async function syncedWorkspace(ctx: Context): Promise<SyncedWorkspace> {
  if (ctx.synced) return ctx.synced;
  const { users, events } = ctx.preset.throughput;
  const subdomain = 'synced';
  ctx.h.sandbox.createWorkspace({ subdomain, users, ticketEvents: events, seed: 1, consentMode: 'allow', rateLimits: false });
  log(`syncing a ${users}-user workspace for the scenarios that need one`);
  const worker = await ctx.h.startWorker();
  try {
    const { integrationId } = await connectAndSync(ctx.h, subdomain);
    ctx.synced = { subdomain, integrationId, users, events };
    return ctx.synced;
  } finally {
    await worker.stop();
  }
}

/**
 * Runs bench/rawFloor.ts as its own process with the system's environment. `onDone` runs after the floor
 * finished and before it closes its PostgreSQL connections (so their CPU time can still be read).
 */
export async function runFloorProcess(
  h: Harness,
  integrationId: string,
  subdomain: string,
  eventsStartTime: number,
  onDone?: (pid: number) => Promise<void>,
): Promise<FloorResult> {
  const suffix = Math.random().toString(36).slice(2, 8);
  return new Promise<FloorResult>((resolve, reject) => {
    let out = '';
    let result: FloorResult | undefined;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'bench/rawFloor.ts'), integrationId, subdomain, String(eventsStartTime), suffix],
      {
        cwd: ROOT,
        env: { ...process.env, ...h.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const line = /^RESULT (.*)$/m.exec(out);
      if (line && !result) {
        result = JSON.parse(line[1]!) as FloorResult;
        void (onDone ? onDone(child.pid!) : Promise.resolve()).finally(() => child.stdin.end('bye\n'));
      }
    });
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => {
      if (code === 0 && result) resolve(result);
      else reject(new Error(`raw floor exited ${code}: ${out.slice(-3000)}`));
    });
  });
}

/** Peak memory of a worker in MB (the larger of the sampled VmRSS and the kernel's VmHWM). */
export function peakOf(worker: WorkerHandle): { peakRss: number; hwm: number } {
  const p = worker.peak();
  return { peakRss: p.rss, hwm: p.hwm };
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const secs = (ms: number) => `${fmt(ms / 1000, 1)} s`;
