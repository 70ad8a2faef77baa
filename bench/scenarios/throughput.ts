/**
 * Scenario 1: unthrottled throughput. A workspace with rate limits off is connected and synced end to end
 * (API → connect workflow → sync workflow → chunk activities → PostgreSQL) by a fresh worker process started
 * with the Node flags of `npm run start:worker` (its heap cap), as in production; then
 * the raw floor (bench/rawFloor.ts) moves the same pages with the same client and COPY. Product and floor
 * alternate `repeats` times (each product round on a new workspace with the same data), and the best time
 * of each is compared: other processes on a shared machine only ever slow a round down. The ratio is the
 * result; absolute rates are shown for information only. CPU time per process shows where the time goes.
 */
import { mb, log, round, streamFinishMs } from '../harness';
import { cpuDelta, cpuSnapshot } from '../procStats';
import { connectAndSync, fmt, runFloorProcess, secs, type Scenario } from '../context';
import type { FloorResult } from '../rawFloor';

const TARGET_RATIO = 0.7;

const cpuLine = (cpu: Record<string, number>) =>
  Object.entries(cpu)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(', ');

interface ProductRound {
  subdomain: string;
  integrationId: string;
  syncMs: number;
  wallMs: number;
  usersStreamMs: number;
  eventsStreamMs: number;
  requests: number;
  usersPages: number;
  eventsPages: number;
  exact: boolean;
  cpuMs: Record<string, number>;
}

export const throughput: Scenario = {
  name: 'throughput',
  title: '1. Unthrottled throughput',
  async run(ctx) {
    const { h, preset } = ctx;
    const { users, events, repeats } = preset.throughput;
    const worker = await h.startWorker();
    const products: ProductRound[] = [];
    const floors: Array<FloorResult & { cpu: Record<string, number> }> = [];
    try {
      for (let round_ = 1; round_ <= repeats; round_++) {
        const subdomain = `throughput-${round_}`;
        const ws = h.sandbox.createWorkspace({ subdomain, users, ticketEvents: events, seed: 1, consentMode: 'allow', rateLimits: false });
        log(`throughput ${round_}/${repeats}: syncing ${fmt(users)} users and ${fmt(events)} ticket events (worker pid ${worker.pid})`);
        const before = ws.stats();
        const cpu0 = await cpuSnapshot(h, { worker: worker.pid });
        const { integrationId, run, wallMs, syncMs } = await connectAndSync(h, subdomain);
        const cpuMs = cpuDelta(cpu0, await cpuSnapshot(h, { worker: worker.pid }));
        const streams = await streamFinishMs(h.db, integrationId, run.started_at);
        const after = ws.stats();
        const stored = await h.db
          .selectFrom('ticket_events')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('integration_id', '=', integrationId)
          .executeTakeFirstOrThrow();
        const pages = (k: string) => (after.byEndpoint[k] ?? 0) - (before.byEndpoint[k] ?? 0);
        products.push({
          subdomain,
          integrationId,
          syncMs,
          wallMs,
          usersStreamMs: streams.users ?? 0,
          eventsStreamMs: streams.ticket_events ?? 0,
          requests: run.requests,
          usersPages: pages('GET /api/v2/incremental/users/cursor'),
          eventsPages: pages('GET /api/v2/incremental/ticket_events'),
          exact: run.users_synced === users && Number(stored.n) === events && run.ticket_events_synced === events,
          cpuMs,
        });
        ctx.synced ??= { subdomain, integrationId, users, events };
        log(`throughput ${round_}/${repeats}: product ${secs(syncMs)}; running the raw floor`);

        // The floor reads the same workspace with the integration's stored token, from the same start.
        const eventsStart = Math.floor(Date.now() / 1000) - 3650 * 86_400;
        const cpu1 = await cpuSnapshot(h);
        let floorCpu: Record<string, number> = {};
        const floor = await runFloorProcess(h, integrationId, subdomain, eventsStart, async () => {
          floorCpu = cpuDelta(cpu1, await cpuSnapshot(h));
        });
        floorCpu.floor = floor.cpuMs ?? 0;
        floors.push({ ...floor, cpu: floorCpu });
        log(`throughput ${round_}/${repeats}: floor ${secs(floor.ms)}`);
      }
    } finally {
      await worker.stop();
    }
    const memory = worker.peak();
    ctx.throughputMemory = { readyRss: worker.readyRss, peakRss: memory.rss, hwm: memory.hwm, heap: worker.peakHeap(), users, events, series: worker.series() };

    const best = products.reduce((a, b) => (b.syncMs < a.syncMs ? b : a));
    const bestFloor = floors.reduce((a, b) => (b.ms < a.ms ? b : a));
    const ratio = bestFloor.ms / best.syncMs;
    const exact = products.every((p) => p.exact);
    const rate = (n: number, ms: number) => n / (ms / 1000);
    log(`throughput: best product ${secs(best.syncMs)}, best floor ${secs(bestFloor.ms)}, ratio ${round(ratio)}`);
    return {
      title: this.title,
      metrics: {
        users,
        events,
        repeats,
        products,
        floors,
        best: { syncMs: best.syncMs, floorMs: bestFloor.ms },
        usersPerSecond: rate(users, best.syncMs),
        eventsPerSecond: rate(events, best.syncMs),
        floorUsersPerSecond: rate(users, bestFloor.ms),
        floorEventsPerSecond: rate(events, bestFloor.ms),
        exact,
        ratioOfFloor: ratio,
        workerNodeFlags: worker.nodeFlags,
        workerReadyRssMb: mb(worker.readyRss),
        workerPeakRssMb: mb(Math.max(memory.rss, memory.hwm)),
        workerPeakHeapMb: Object.fromEntries(Object.entries(worker.peakHeap()).map(([k, v]) => [k, mb(v)])),
        workerMemorySeries: { columns: ['s', 'rssMb', 'heapTotalMb', 'heapUsedMb'], samples: worker.series() },
      },
      rows: [
        {
          metric: 'workspace',
          value: `${fmt(users)} users, ${fmt(events)} ticket events (${best.usersPages} + ${best.eventsPages} pages), rate limits off; best of ${repeats} alternating rounds`,
        },
        {
          metric: 'product: sync time (sync_runs)',
          value: `${secs(best.syncMs)} (users stream ${secs(best.usersStreamMs)}, events stream ${secs(best.eventsStreamMs)}); all rounds ${products.map((p) => secs(p.syncMs)).join(', ')}`,
        },
        { metric: 'product: users/s, events/s', value: `${fmt(rate(users, best.syncMs))} users/s, ${fmt(rate(events, best.syncMs))} events/s` },
        { metric: 'product: data exact', value: exact ? 'yes' : `no (${products.map((p) => p.exact).join(', ')})`, target: 'yes', met: exact },
        {
          metric: 'raw floor: time',
          value: `${secs(bestFloor.ms)} (users ${secs(bestFloor.usersMs)}, events ${secs(bestFloor.eventsMs)}); all rounds ${floors.map((f) => secs(f.ms)).join(', ')}`,
        },
        { metric: 'raw floor: users/s, events/s', value: `${fmt(rate(users, bestFloor.ms))} users/s, ${fmt(rate(events, bestFloor.ms))} events/s` },
        { metric: 'CPU time (ms), product (best round)', value: cpuLine(best.cpuMs) },
        { metric: 'CPU time (ms), raw floor (best round)', value: cpuLine(bestFloor.cpu) },
        { metric: 'product throughput ÷ raw floor', value: fmt(ratio, 2), target: `≥ ${TARGET_RATIO}`, met: ratio >= TARGET_RATIO },
        {
          metric: 'worker',
          value: `as started by npm run start:worker (${worker.nodeFlags.join(' ') || 'no Node flags'}); peak RSS ${mb(Math.max(memory.rss, memory.hwm))} MB (scenario 5)`,
        },
      ],
    };
  },
};
