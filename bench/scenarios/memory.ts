/**
 * Scenario 5: worker memory. Scenario 1's worker — started as production starts it, with the Node flags of
 * `npm run start:worker` (the V8 heap cap) — was sampled (VmRSS every 100 ms, the kernel's VmHWM, and the
 * V8 heap from its /metrics once a second) while it synced the big workspace. Here a fresh worker, started
 * the same way, syncs a workspace 10× smaller the same number of times, and the peaks are compared: if the
 * sync held on to data as the workspace grows, the capped worker would grow (or fail) with it.
 *
 * For comparison the same syncs run once each in workers with Node's default flags. V8 sizes its heap limit
 * from the machine's memory (several GB here) and lets garbage pile up to a few times the live heap before
 * a full collection, raising that point while allocation goes on, so their peaks say as much about V8's
 * heuristics as about the sync.
 */
import { log, mb, type StartWorkerOptions, type WorkerHandle } from '../harness';
import { connectAndSync, fmt, type Context, type Scenario } from '../context';

const TARGET_MB = 300;
/** 10× the data may raise the measure by at most this factor (GC noise, not data). */
const MAX_GROWTH = 1.15;

const mapMb = (x: Record<string, number>) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, mb(v)]));

interface Measured {
  users: number;
  events: number;
  peakMb: number;
  readyMb: number;
  heapMb: Record<string, number>;
  nodeFlags: string[];
}

function measured(worker: WorkerHandle, users: number, events: number): Measured {
  const p = worker.peak();
  return { users, events, peakMb: mb(Math.max(p.rss, p.hwm)), readyMb: mb(worker.readyRss), heapMb: mapMb(worker.peakHeap()), nodeFlags: worker.nodeFlags };
}

/** A fresh worker syncs `rounds` new workspaces of the given size; returns its memory. */
async function syncWith(
  ctx: Context,
  label: string,
  size: { users: number; events: number },
  rounds: number,
  opts: StartWorkerOptions = {},
): Promise<Measured> {
  const worker = await ctx.h.startWorker({}, opts);
  try {
    for (let i = 1; i <= rounds; i++) {
      const subdomain = `memory-${label}-${i}`;
      ctx.h.sandbox.createWorkspace({ subdomain, users: size.users, ticketEvents: size.events, seed: 1, consentMode: 'allow', rateLimits: false });
      log(
        `memory: ${label} ${i}/${rounds}: syncing ${fmt(size.users)} users and ${fmt(size.events)} events (worker pid ${worker.pid}, flags: ${worker.nodeFlags.join(' ') || 'none'})`,
      );
      await connectAndSync(ctx.h, subdomain);
    }
  } finally {
    await worker.stop();
  }
  return measured(worker, size.users, size.events);
}

export const memory: Scenario = {
  name: 'memory',
  title: '5. Worker memory',
  needs: ['throughput'],
  async run(ctx) {
    const t = ctx.throughputMemory;
    if (!t) throw new Error('scenario 1 did not record the worker memory');
    const rounds = ctx.preset.throughput.repeats;
    const big: Measured = {
      users: t.users,
      events: t.events,
      peakMb: mb(Math.max(t.peakRss, t.hwm)),
      readyMb: mb(t.readyRss),
      heapMb: mapMb(t.heap),
      // Scenario 1's worker flags (its metrics; bench/context.ts keeps only its memory).
      nodeFlags: (ctx.results.throughput?.metrics.workerNodeFlags as string[] | undefined) ?? [],
    };
    const bigSize = { users: t.users, events: t.events };
    const small = await syncWith(ctx, 'small', ctx.preset.memoryBaseline, rounds);
    const defaultBig = await syncWith(ctx, 'default-big', bigSize, 1, { nodeFlags: 'default' });
    const defaultSmall = await syncWith(ctx, 'default-small', ctx.preset.memoryBaseline, 1, { nodeFlags: 'default' });

    const growth = big.peakMb / small.peakMb;
    const defaultGrowth = defaultBig.peakMb / defaultSmall.peakMb;
    const flags = big.nodeFlags.join(' ') || 'no flags';
    const size = (m: Measured) => `${fmt(m.users)} users / ${fmt(m.events)} events`;
    const detail = (m: Measured) =>
      `${m.peakMb} MB (idle after start ${m.readyMb} MB; V8 heap ≤ ${m.heapMb.heapTotal} MB, of it used ≤ ${m.heapMb.heapUsed} MB)`;
    return {
      title: this.title,
      metrics: { productionNodeFlags: big.nodeFlags, rounds, big, small, defaultBig, defaultSmall, growth, defaultGrowth },
      rows: [
        {
          metric: `peak RSS, ${size(big)}, as started by npm run start:worker (${flags}; scenario 1, ${rounds} syncs)`,
          value: detail(big),
          target: `< ${TARGET_MB} MB`,
          met: big.peakMb < TARGET_MB,
        },
        { metric: `peak RSS, ${size(small)}, same flags (${rounds} syncs)`, value: detail(small), target: `< ${TARGET_MB} MB`, met: small.peakMb < TARGET_MB },
        { metric: 'peak RSS growth for 10× the data', value: `×${fmt(growth, 2)}`, target: `≤ ×${MAX_GROWTH}`, met: growth <= MAX_GROWTH },
        { metric: `comparison: peak RSS, ${size(defaultBig)}, Node's default flags (1 sync)`, value: detail(defaultBig) },
        { metric: `comparison: peak RSS, ${size(defaultSmall)}, Node's default flags (1 sync)`, value: detail(defaultSmall) },
        {
          metric: 'comparison: peak RSS growth for 10× the data, default flags',
          value: `×${fmt(defaultGrowth, 2)} (V8 grows its heap limit while allocation goes on)`,
        },
      ],
    };
  },
};
