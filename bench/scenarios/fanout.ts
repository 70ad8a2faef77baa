/**
 * Scenario 4: fan-out. Many workspaces are connected at once (all creations and consents fired together)
 * and synced by one fresh worker process. Reported: total time until every first sync finished, the most
 * syncs any one integration had running at once (from sync_runs intervals; must be 1), every sync
 * succeeding exactly, the most syncs running at once overall, and the worker's peak memory. The worker is
 * started as production starts it (the Node flags of `npm run start:worker`: its heap cap) with the SDK's
 * own metrics on, to show whether its workflow cache (WORKER_MAX_CACHED_WORKFLOWS) had to evict workflows
 * that were still running (each eviction means a replay of the workflow's history at its next task).
 */
import { log, mb, sleep, type Harness } from '../harness';
import { cpuDelta, cpuSnapshot } from '../procStats';
import { fmt, secs, type Scenario } from '../context';
import { freePort } from '../../scripts/test';

/**
 * Connects a workspace as h.connect does, but reloads the callback page while it answers "Still connecting…"
 * (202, or 503 with Temporal unreachable: the connect workflow did not answer within OAUTH_CALLBACK_WAIT — on a
 * loaded 2-core machine 500 consents at once can take that long), as the page's meta refresh does in a browser:
 * the reload re-attaches to the same update and shows the real outcome. Returns the id and how many reloads it took.
 */
export async function connectReloading(h: Harness, workspace: string, maxReloads = 10): Promise<{ id: string; reloads: number }> {
  const created = await h.api('POST', '/v1/integrations/zendesk', { workspace }, h.tenantKey);
  if (created.status !== 201) throw new Error(`creating the integration of ${workspace} failed: ${created.status} ${created.text}`);
  const consent = await fetch(created.json.authorizeUrl, { redirect: 'manual' });
  const location = consent.headers.get('location');
  if (consent.status !== 302 || !location) throw new Error(`consent of ${workspace}: expected a redirect, got ${consent.status}`);
  for (let reloads = 0; ; reloads++) {
    const callback = await fetch(location, { redirect: 'manual' });
    const html = await callback.text();
    if (callback.status === 200) return { id: created.json.id, reloads };
    if ((callback.status !== 202 && callback.status !== 503) || reloads >= maxReloads)
      throw new Error(`callback of ${workspace}: ${callback.status} ${html.slice(0, 300)}`);
    await sleep(2_000);
  }
}

/** Waits (up to an hour) until each of `ids` has a finished (not running) sync run. */
export async function waitForFirstSyncs(h: Harness, ids: string[], what: string): Promise<void> {
  const deadline = Date.now() + 3_600_000;
  for (;;) {
    const done = await h.db
      .selectFrom('sync_runs')
      .select((eb) => eb.fn.count<number>('integration_id').distinct().as('n'))
      .where('integration_id', 'in', ids)
      .where('status', '<>', 'running')
      .executeTakeFirstOrThrow();
    if (Number(done.n) >= ids.length) return;
    if (Date.now() > deadline) throw new Error(`${what}: only ${done.n}/${ids.length} syncs finished in time`);
    await sleep(250);
  }
}

/** Sum of every series of a Prometheus counter or gauge (`name`, or `name_total` as exporters may suffix it). */
function promSum(text: string, name: string): number {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:_total)?(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

export const fanout: Scenario = {
  name: 'fanout',
  title: '4. Fan-out',
  async run(ctx) {
    const { h, preset } = ctx;
    const { workspaces, users, events } = preset.fanout;
    const names = Array.from({ length: workspaces }, (_, i) => `fanout-${String(i).padStart(4, '0')}`);
    // Sandbox defaults: Enterprise limits per workspace with Zendesk's 60 s window (not binding here).
    for (const [i, subdomain] of names.entries()) h.sandbox.createWorkspace({ subdomain, users, ticketEvents: events, seed: 100 + i, consentMode: 'allow' });
    const sdkMetricsPort = await freePort();
    const worker = await h.startWorker({ TEMPORAL_METRICS_PORT: String(sdkMetricsPort) });
    log(`fanout: connecting ${workspaces} workspaces of ${fmt(users)} users at once (worker pid ${worker.pid})`);

    // Overall concurrency, sampled while it runs.
    let maxRunning = 0;
    let sampling = true;
    const sampler = (async () => {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- cleared by the code below, while this loop awaits
      while (sampling) {
        const row = await h.db
          .selectFrom('sync_runs')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('status', '=', 'running')
          .where('integration_id', 'in', h.db.selectFrom('integrations').select('id').where('workspace', 'like', 'fanout-%'))
          .executeTakeFirstOrThrow();
        maxRunning = Math.max(maxRunning, Number(row.n));
        await sleep(250);
      }
    })();

    const cpu0 = await cpuSnapshot(h, { worker: worker.pid, api: h.apiPid });
    const started = performance.now();
    const connected = await Promise.all(names.map((n) => connectReloading(h, n)));
    const ids = connected.map((c) => c.id);
    const reloads = connected.reduce((sum, c) => sum + c.reloads, 0);
    const connectedMs = performance.now() - started;
    log(`fanout: all ${workspaces} consents answered in ${secs(connectedMs)}; waiting for the syncs`);
    await waitForFirstSyncs(h, ids, 'fan-out');
    const totalMs = performance.now() - started;
    const cpu = cpuDelta(cpu0, await cpuSnapshot(h, { worker: worker.pid, api: h.apiPid }));
    sampling = false;
    await sampler;
    // Let any sync that a schedule might still start show up before counting overlaps.
    await sleep(2_000);
    const sdkMetrics = await fetch(`http://127.0.0.1:${sdkMetricsPort}/metrics`).then(
      (r) => r.text(),
      () => '',
    );
    const cache = {
      hits: promSum(sdkMetrics, 'temporal_sticky_cache_hit'),
      misses: promSum(sdkMetrics, 'temporal_sticky_cache_miss'),
      forcedEvictions: promSum(sdkMetrics, 'temporal_sticky_cache_total_forced_eviction'),
    };
    await worker.stop();
    const memory = worker.peak();
    const heap = worker.peakHeap();

    const runs = await h.db.selectFrom('sync_runs').selectAll().where('integration_id', 'in', ids).execute();
    const byIntegration = new Map<string, typeof runs>();
    for (const r of runs) byIntegration.set(r.integration_id, [...(byIntegration.get(r.integration_id) ?? []), r]);
    let maxPerIntegration = 0;
    for (const list of byIntegration.values()) {
      // Sweep the [start, end] intervals of one integration's runs.
      const points = list.flatMap((r) => [
        { t: r.started_at.getTime(), d: 1 },
        { t: (r.finished_at ?? new Date(8.64e15)).getTime(), d: -1 },
      ]);
      points.sort((a, b) => a.t - b.t || a.d - b.d);
      let open = 0;
      for (const p of points) maxPerIntegration = Math.max(maxPerIntegration, (open += p.d));
    }
    const succeeded = runs.filter((r) => r.status === 'succeeded');
    const exact = succeeded.length === ids.length && succeeded.every((r) => r.users_synced === users && r.ticket_events_synced === events);
    const durations = succeeded.map((r) => r.finished_at!.getTime() - r.started_at.getTime()).sort((a, b) => a - b);
    const firstStart = Math.min(...runs.map((r) => r.started_at.getTime()));
    const lastEnd = Math.max(...runs.map((r) => (r.finished_at ?? r.started_at).getTime()));
    const peakMb = mb(Math.max(memory.rss, memory.hwm));
    log(`fanout: ${secs(totalMs)}, max per integration ${maxPerIntegration}, peak ${peakMb} MB`);
    return {
      title: this.title,
      metrics: {
        workspaces,
        usersPerWorkspace: users,
        eventsPerWorkspace: events,
        totalMs,
        connectedMs,
        firstStartToLastEndMs: lastEnd - firstStart,
        syncRuns: runs.length,
        succeeded: succeeded.length,
        exact,
        maxSyncsPerIntegration: maxPerIntegration,
        maxSyncsRunning: maxRunning,
        syncMs: { p50: durations[Math.floor(durations.length / 2)], max: durations[durations.length - 1] },
        workerReadyRssMb: mb(worker.readyRss),
        workerPeakRssMb: peakMb,
        workerPeakHeapMb: { heapTotal: mb(heap.heapTotal), heapUsed: mb(heap.heapUsed) },
        workerNodeFlags: worker.nodeFlags,
        workflowCache: cache,
        consentReloads: reloads,
        cpuMs: cpu,
      },
      rows: [
        { metric: 'workspaces', value: `${workspaces} × ${fmt(users)} users, ${fmt(events)} ticket events, one worker` },
        {
          metric: 'total time (first connect → last sync finished)',
          value: `${secs(totalMs)} (all consents answered after ${secs(connectedMs)}; first sync start → last end ${secs(lastEnd - firstStart)})`,
        },
        {
          metric: 'consent callback pages reloaded while "Still connecting…" (the API waits OAUTH_CALLBACK_WAIT, 90 s, for the connect workflow)',
          value: String(reloads),
        },
        {
          metric: 'per-sync time, median / max (sync_runs)',
          value: `${secs(durations[Math.floor(durations.length / 2)] ?? 0)} / ${secs(durations[durations.length - 1] ?? 0)}`,
        },
        { metric: 'syncs succeeded with exact counts', value: `${succeeded.length}/${ids.length} (${runs.length} runs)`, target: 'all', met: exact },
        { metric: 'most syncs of one integration at once', value: String(maxPerIntegration), target: '1', met: maxPerIntegration === 1 },
        { metric: 'most syncs running at once (all integrations)', value: String(maxRunning) },
        {
          metric: 'CPU time (ms) until the last sync finished',
          value: `${Object.entries(cpu)
            .map(([k, v]) => `${k === 'bench' ? 'sandbox' : k} ${fmt(v)}`)
            .join(', ')} (${secs(totalMs)} × 2 cores = ${fmt(totalMs * 2)})`,
        },
        {
          metric: `worker peak RSS (${worker.nodeFlags.join(' ') || 'no Node flags'})`,
          value: `${peakMb} MB (idle after start: ${mb(worker.readyRss)} MB; V8 heap ≤ ${mb(heap.heapTotal)} MB, of it used ≤ ${mb(heap.heapUsed)} MB)`,
        },
        {
          metric: 'workflow cache (SDK metrics): hits / misses, forced evictions',
          value: sdkMetrics ? `${fmt(cache.hits)} / ${fmt(cache.misses)}, ${fmt(cache.forcedEvictions)}` : 'SDK metrics not available',
        },
      ],
    };
  },
};
