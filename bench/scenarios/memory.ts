/**
 * Scenario 5: worker memory. Scenario 1's worker was sampled (VmRSS every 100 ms, the kernel's VmHWM, and
 * the V8 heap from its /metrics once a second) while it synced the big workspace. Here fresh workers sync
 * a workspace 10× smaller the same number of times, and the peaks are compared.
 *
 * The V8 heap is lazy: with default flags it lets garbage pile up to a few times the live heap before a
 * full collection, and raises that limit while allocation goes on, so peak RSS with default flags says as
 * much about V8's heuristics as about the sync. The same syncs are therefore also run by workers whose old
 * generation is capped (`--max-old-space-size`, HEAP_CAP_MB): if the sync held on to data as the workspace
 * grows, the capped worker would grow (or fail) too; equal capped peaks for 10× the data show it does not.
 */
import { log, mb, type WorkerHandle } from '../harness';
import { connectAndSync, fmt, type Context, type Scenario } from '../context';

const TARGET_MB = 300;
/** 10× the data may raise the measure by at most this factor (GC noise, not data). */
const MAX_GROWTH = 1.15;
const HEAP_CAP_MB = 128;

const mapMb = (x: Record<string, number>) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, mb(v)]));

interface Measured {
  users: number;
  events: number;
  peakMb: number;
  readyMb: number;
  heapMb: Record<string, number>;
}

function measured(worker: WorkerHandle, users: number, events: number): Measured {
  const p = worker.peak();
  return { users, events, peakMb: mb(Math.max(p.rss, p.hwm)), readyMb: mb(worker.readyRss), heapMb: mapMb(worker.peakHeap()) };
}

/** A fresh worker syncs `rounds` new workspaces of the given size; returns its memory. */
async function syncWith(ctx: Context, label: string, size: { users: number; events: number }, rounds: number, env: Record<string, string> = {}): Promise<Measured> {
  const worker = await ctx.h.startWorker(env);
  try {
    for (let i = 1; i <= rounds; i++) {
      const subdomain = `memory-${label}-${i}`;
      ctx.h.sandbox.createWorkspace({ subdomain, users: size.users, ticketEvents: size.events, seed: 1, consentMode: 'allow', rateLimits: false });
      log(`memory: ${label} ${i}/${rounds}: syncing ${fmt(size.users)} users and ${fmt(size.events)} events (worker pid ${worker.pid})`);
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
    };
    const bigSize = { users: t.users, events: t.events };
    const small = await syncWith(ctx, 'small', ctx.preset.memoryBaseline, rounds);
    const capFlag = `--max-old-space-size=${HEAP_CAP_MB}`;
    const cappedBig = await syncWith(ctx, 'capped-big', bigSize, 1, { NODE_OPTIONS: capFlag });
    const cappedSmall = await syncWith(ctx, 'capped-small', ctx.preset.memoryBaseline, 1, { NODE_OPTIONS: capFlag });

    const cappedGrowth = cappedBig.peakMb / cappedSmall.peakMb;
    const size = (m: Measured) => `${fmt(m.users)} users / ${fmt(m.events)} events`;
    const detail = (m: Measured) => `${m.peakMb} MB (idle after start ${m.readyMb} MB; V8 heap ≤ ${m.heapMb.heapTotal} MB, of it used ≤ ${m.heapMb.heapUsed} MB)`;
    return {
      title: this.title,
      metrics: { heapCapMb: HEAP_CAP_MB, rounds, big, small, cappedBig, cappedSmall, cappedGrowth, peakGrowth: big.peakMb / small.peakMb },
      rows: [
        { metric: `peak RSS, ${size(big)}, default V8 flags (scenario 1)`, value: detail(big), target: `< ${TARGET_MB} MB`, met: big.peakMb < TARGET_MB },
        { metric: `peak RSS, ${size(small)}, default V8 flags`, value: detail(small) },
        { metric: `peak RSS, ${size(cappedBig)}, ${capFlag}`, value: detail(cappedBig), target: `< ${TARGET_MB} MB`, met: cappedBig.peakMb < TARGET_MB },
        { metric: `peak RSS, ${size(cappedSmall)}, ${capFlag}`, value: detail(cappedSmall) },
        { metric: `peak RSS growth for 10× the data (${capFlag})`, value: `×${fmt(cappedGrowth, 2)}`, target: `≤ ×${MAX_GROWTH}`, met: cappedGrowth <= MAX_GROWTH },
        { metric: 'peak RSS growth for 10× the data (default flags)', value: `×${fmt(big.peakMb / small.peakMb, 2)} (V8 grows its heap limit while allocation goes on)` },
      ],
    };
  },
};
