/**
 * Scenario 4: fan-out. Many workspaces are connected at once (all creations and consents fired together)
 * and synced by one fresh worker process. Reported: total time until every first sync finished, the most
 * syncs any one integration had running at once (from sync_runs intervals; must be 1), every sync
 * succeeding exactly, the most syncs running at once overall, and the worker's peak memory.
 */
import { cpuDelta, cpuSnapshot, log, mb, sleep } from '../harness';
import { fmt, secs, type Scenario } from '../context';

export const fanout: Scenario = {
  name: 'fanout',
  title: '4. Fan-out',
  async run(ctx) {
    const { h, preset } = ctx;
    const { workspaces, users, events } = preset.fanout;
    const names = Array.from({ length: workspaces }, (_, i) => `fanout-${String(i).padStart(4, '0')}`);
    // Sandbox defaults: Enterprise limits per workspace with Zendesk's 60 s window (not binding here).
    for (const [i, subdomain] of names.entries()) h.sandbox.createWorkspace({ subdomain, users, ticketEvents: events, seed: 100 + i, consentMode: 'allow' });
    const worker = await h.startWorker();
    log(`fanout: connecting ${workspaces} workspaces of ${fmt(users)} users at once (worker pid ${worker.pid})`);

    // Overall concurrency, sampled while it runs.
    let maxRunning = 0;
    let sampling = true;
    const sampler = (async () => {
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
    const ids = await Promise.all(names.map((n) => h.connect(n)));
    const connectedMs = performance.now() - started;
    log(`fanout: all ${workspaces} consents answered in ${secs(connectedMs)}; waiting for the syncs`);
    const deadline = Date.now() + 3_600_000;
    for (;;) {
      const done = await h.db
        .selectFrom('sync_runs')
        .select((eb) => eb.fn.count<number>('integration_id').distinct().as('n'))
        .where('integration_id', 'in', ids)
        .where('status', '<>', 'running')
        .executeTakeFirstOrThrow();
      if (Number(done.n) >= ids.length) break;
      if (Date.now() > deadline) throw new Error(`fan-out: only ${done.n}/${ids.length} syncs finished in time`);
      await sleep(250);
    }
    const totalMs = performance.now() - started;
    const cpu = cpuDelta(cpu0, await cpuSnapshot(h, { worker: worker.pid, api: h.apiPid }));
    sampling = false;
    await sampler;
    // Let any sync that a schedule might still start show up before counting overlaps.
    await sleep(2_000);
    await worker.stop();
    const memory = worker.peak();

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
        cpuMs: cpu,
      },
      rows: [
        { metric: 'workspaces', value: `${workspaces} × ${fmt(users)} users, ${fmt(events)} ticket events, one worker` },
        { metric: 'total time (first connect → last sync finished)', value: `${secs(totalMs)} (all consents answered after ${secs(connectedMs)}; first sync start → last end ${secs(lastEnd - firstStart)})` },
        { metric: 'per-sync time, median / max (sync_runs)', value: `${secs(durations[Math.floor(durations.length / 2)] ?? 0)} / ${secs(durations[durations.length - 1] ?? 0)}` },
        { metric: 'syncs succeeded with exact counts', value: `${succeeded.length}/${ids.length} (${runs.length} runs)`, target: 'all', met: exact },
        { metric: 'most syncs of one integration at once', value: String(maxPerIntegration), target: '1', met: maxPerIntegration === 1 },
        { metric: 'most syncs running at once (all integrations)', value: String(maxRunning) },
        {
          metric: 'CPU time (ms) until the last sync finished',
          value: `${Object.entries(cpu).map(([k, v]) => `${k === 'bench' ? 'sandbox' : k} ${fmt(v)}`).join(', ')} (${secs(totalMs)} × 2 cores = ${fmt(totalMs * 2)})`,
        },
        { metric: 'worker peak RSS', value: `${peakMb} MB (idle after start: ${mb(worker.readyRss)} MB)` },
      ],
    };
  },
};
