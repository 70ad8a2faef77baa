/**
 * Scenario 6: the API under load. h2load (or autocannon, see ../loadGenerator) drives 100 concurrent
 * connections against the API process, cycling through filtered `/users` pages (first pages and a second page by
 * cursor) and `/utilization` of scenario 1's workspace. The same load against `/healthz` (no database, no
 * Temporal) is measured in the same run as the machine's reference; per-endpoint runs show which part costs.
 *
 * The API caches reports until a sync changes them (src/api/cache, invalidated by PostgreSQL NOTIFY), so
 * the load numbers are *warm* ones. To report honestly what a cache miss costs, the scenario also measures:
 * - cold: the first request of each URL right after an invalidation (the NOTIFY a sync's page sends), on
 *   the caching API, one client;
 * - uncached: each URL alone and the same mix under load against a second API process started with
 *   `REPORT_CACHE_TTL_SECONDS=0` (every request computed by PostgreSQL);
 * - churn: the warm mix while a sync runs: a page's notification every second (the reports are marked
 *   stale and recomputed behind the readers).
 */
import { sql } from 'kysely';
import { log, sleep } from '../harness';
import { cpuDelta, cpuSnapshot } from '../procStats';
import { fmt, syncedWorkspace, type Scenario } from '../context';
import { loadGeneratorName, runLoad, type LoadResult } from '../loadGenerator';

const TARGET_P99_MS = 50;
/** Rounds of reference and mix, alternating (the median round is reported). */
const ROUNDS = 3;

const failed = (r: LoadResult) => r.errors + r.timeouts + r.non2xx;

/** The round whose p99 is the median of the rounds' (an odd number of rounds). */
function medianRound(rounds: LoadResult[]): LoadResult {
  return [...rounds].sort((a, b) => a.p99 - b.p99)[Math.floor(rounds.length / 2)]!;
}

async function timed(url: string, headers: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

export const apiLoad: Scenario = {
  name: 'api',
  title: '6. API under load',
  async run(ctx) {
    const { h, preset } = ctx;
    const synced = await syncedWorkspace(ctx);
    const base = `/v1/integrations/${synced.integrationId}`;
    // As browsers and fetch() do: large reports (utilization lists every reclaimable seat) come gzip.
    const headers = { authorization: `Bearer ${h.tenantKey}`, 'accept-encoding': 'gzip' };
    const usersPaths = [
      `${base}/users?seat=paid&usage=inactive&limit=100`,
      `${base}/users?role=agent,admin&sort=-lastActivityAt&limit=100`,
      `${base}/users?q=son&limit=50`,
      `${base}/users?roleType=light_agent,contributor&sort=name&limit=100`,
      `${base}/users?suspended=true&seat=paid&sort=-lastLoginAt`,
      `${base}/users?sort=-ticketInteractions&limit=100`,
      `${base}/users?createdAfter=2020-01-01&sort=createdAt&limit=200`,
    ];
    // A second page, by cursor, of one listing.
    const first = await h.api('GET', usersPaths[1]!.slice(0), undefined, h.tenantKey);
    if (first.status !== 200) throw new Error(`GET users failed: ${first.status} ${first.text}`);
    if (first.json.nextCursor) usersPaths.push(`${usersPaths[1]}&cursor=${encodeURIComponent(first.json.nextCursor)}`);
    const utilizationPaths = [`${base}/utilization`, `${base}/utilization?inactiveDays=60`];
    const allPaths = [...usersPaths, ...utilizationPaths];

    // The caching API (the harness's) must have its change feed up; a second API computes every request.
    const cacheOn = async () => /^api_cache_enabled(\{[^}]*\})? 1$/m.test(await (await fetch(`${h.internalUrl}/metrics`)).text());
    for (let i = 0; !(await cacheOn()); i++) {
      if (i > 100) throw new Error('the API report cache did not turn on');
      await sleep(100);
    }
    const uncached = await h.startApi({ REPORT_CACHE_TTL_SECONDS: '0' });
    // The same API with every per-tenant budget off (src/api/limits): the "before" of the budgets, measured
    // in the same rounds. The harness's API has them on (counted, never met).
    const unbudgeted = await h.startApi({
      API_RATE_LIMIT_REQUESTS: 'off',
      API_RATE_LIMIT_REPORTS: 'off',
      API_RATE_LIMIT_CSV: 'off',
      API_RATE_LIMIT_INTEGRATIONS: 'off',
    });
    const cacheOnAt = async (url: string) => /^api_cache_enabled(\{[^}]*\})? 1$/m.test(await (await fetch(`${url}/metrics`)).text());
    for (let i = 0; !(await cacheOnAt(unbudgeted.url)); i++) {
      if (i > 100) throw new Error('the unbudgeted API report cache did not turn on');
      await sleep(100);
    }
    for (const url of [h.apiUrl, uncached.url, unbudgeted.url]) {
      for (const p of allPaths) {
        const res = await fetch(`${url}${p}`, { headers });
        if (res.status !== 200) throw new Error(`GET ${p} failed: ${res.status} ${await res.text()}`);
      }
    }
    // What the end of a sync sends (migration 20261201T120000_report_change_notify): the reports are dropped.
    const invalidate = () => sql`SELECT pg_notify('report_changes', ${`integration:${synced.integrationId}`})`.execute(h.db);
    // What each page of a running sync sends (migration 20261202T090000_report_change_progress): marked stale.
    const progress = () => sql`SELECT pg_notify('report_changes', ${`progress:${synced.integrationId}`})`.execute(h.db);

    // The mix: each connection cycles through 8 /users requests and 2 /utilization requests.
    const mix = [...usersPaths.slice(0, 4), utilizationPaths[0]!, ...usersPaths.slice(4), utilizationPaths[1]!];
    const { connections, durationS } = preset.apiLoad;
    const generator = loadGeneratorName();
    const load = (url: string, paths: string[], hdrs: Record<string, string>, conns: number, seconds: number) =>
      runLoad(generator, { url, paths, headers: hdrs, connections: conns, durationS: seconds });
    log(
      `api (${generator}): requests alone, then ${connections} connections: rounds of the reference (/healthz) and the mix, after a sync, per endpoint, churn and uncached`,
    );
    await load(uncached.url, mix, headers, 4, 2);
    // Service time of each request alone, one client: uncached (every request computed), cold (the first
    // request after an invalidation, on the caching API) and warm (cached).
    const alone: Array<{ path: string; uncachedP50: number; uncachedMax: number; coldP50: number; coldMax: number; warmP50: number }> = [];
    for (const p of allPaths) {
      const plain: number[] = [];
      for (let i = 0; i < 11; i++) plain.push(await timed(`${uncached.url}${p}`, headers));
      const cold: number[] = [];
      for (let i = 0; i < 5; i++) {
        await invalidate();
        await sleep(50);
        cold.push(await timed(`${h.apiUrl}${p}`, headers));
      }
      const warm: number[] = [];
      for (let i = 0; i < 11; i++) warm.push(await timed(`${h.apiUrl}${p}`, headers));
      alone.push({
        path: p.slice(base.length),
        uncachedP50: median(plain),
        uncachedMax: Math.max(...plain),
        coldP50: median(cold),
        coldMax: Math.max(...cold),
        warmP50: median(warm),
      });
    }
    log(
      `api: alone (uncached / cold / warm p50) ${alone.map((a) => `${a.path} ${fmt(a.uncachedP50, 1)}/${fmt(a.coldP50, 1)}/${fmt(a.warmP50, 1)} ms`).join('; ')}`,
    );

    // Steady state, in rounds: this machine's speed drifts by a quarter from one minute to the next (other
    // tenants of the host), so the reference and the mix alternate, and the median round is reported.
    const roundS = Math.max(3, Math.round(durationS / ROUNDS));
    await load(h.apiUrl, ['/healthz'], {}, connections, 3); // warms the API's JIT under load
    await load(h.apiUrl, mix, headers, connections, 3);
    await load(unbudgeted.url, ['/healthz'], {}, connections, 3);
    await load(unbudgeted.url, mix, headers, connections, 3);
    const references: LoadResult[] = [];
    const mixes: LoadResult[] = [];
    const unbudgetedMixes: LoadResult[] = [];
    const mixCpu: Record<string, number> = {};
    for (let round = 0; round < ROUNDS; round++) {
      references.push(await load(h.apiUrl, ['/healthz'], {}, connections, roundS));
      await sleep(500);
      // Budgets on and off take turns going first: the second of two runs in a row was the slower one.
      if (round % 2 === 1) {
        unbudgetedMixes.push(await load(unbudgeted.url, mix, headers, connections, roundS));
        await sleep(500);
      }
      const cpu0 = await cpuSnapshot(h, { api: h.apiPid });
      mixes.push(await load(h.apiUrl, mix, headers, connections, roundS));
      const cpu = cpuDelta(cpu0, await cpuSnapshot(h, { api: h.apiPid }));
      for (const [part, ms] of Object.entries(cpu)) mixCpu[part] = (mixCpu[part] ?? 0) + ms;
      await sleep(500);
      if (round % 2 === 0) {
        unbudgetedMixes.push(await load(unbudgeted.url, mix, headers, connections, roundS));
        await sleep(500);
      }
    }
    await unbudgeted.stop();
    const unbudgetedMix = medianRound(unbudgetedMixes);
    const reference = medianRound(references);
    const mixed = medianRound(mixes);
    const mixFailures = mixes.reduce((sum, r) => sum + failed(r), 0);
    const mixRequests = mixes.reduce((sum, r) => sum + r.requests, 0);
    const generatorCpu = mixes.reduce((sum, r) => sum + (r.generatorCpuMs ?? NaN), 0);
    // Right after a sync finished: every report is recomputed once (the first requests wait for it).
    await invalidate();
    await sleep(50);
    const afterSync = await load(h.apiUrl, mix, headers, connections, roundS);
    await sleep(500);
    const usersOnly = await load(h.apiUrl, usersPaths, headers, connections, roundS);
    await sleep(500);
    const utilizationOnly = await load(h.apiUrl, utilizationPaths, headers, connections, roundS);
    await sleep(500);
    // A sync running: a page commits every second (each marks the integration's reports stale).
    const churnTimer = setInterval(() => void progress().catch(() => undefined), 1_000);
    const churn = await load(h.apiUrl, mix, headers, connections, roundS).finally(() => clearInterval(churnTimer));
    await sleep(500);
    const uncachedMix = await load(uncached.url, mix, headers, connections, roundS);
    await uncached.stop();

    const line = (r: LoadResult) => `p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, ${fmt(r.rps)} req/s, ${failed(r)} errors`;
    const rounds = (rs: LoadResult[]) => rs.map((r) => `${fmt(r.p99)}`).join(', ');
    log(
      `api: mix ${line(mixed)} (p99 by round ${rounds(mixes)}); reference ${line(reference)} (p99 by round ${rounds(references)}); after a sync ${line(afterSync)}; churn ${line(churn)}; uncached ${line(uncachedMix)}`,
    );
    const short70 = (path: string) => (path.length > 70 ? `${path.slice(0, 67)}…` : path);
    return {
      title: this.title,
      metrics: {
        workspace: { users: synced.users, events: synced.events },
        generator,
        connections,
        durationS,
        alone,
        rounds: { count: ROUNDS, seconds: roundS, mix: mixes, reference: references, unbudgetedMix: unbudgetedMixes },
        unbudgetedMix,
        mixCpuMs: mixCpu,
        mix: mixed,
        reference,
        afterSync,
        usersOnly,
        utilizationOnly,
        churn,
        uncachedMix,
        paths: { users: usersPaths, utilization: utilizationPaths },
      },
      rows: [
        {
          metric: 'load',
          value: `${connections} connections (${generator}); ${fmt(synced.users)}-user workspace, ${fmt(synced.events)} events; mix of ${usersPaths.length} /users and 2 /utilization requests, clients send Accept-Encoding: gzip; ${ROUNDS} rounds of ${roundS} s of the reference then the mix, median round reported`,
        },
        { metric: 'mix (report cache warm): p50 latency', value: `${fmt(mixed.p50)} ms` },
        {
          metric: 'mix (report cache warm): p99 latency',
          value: `${fmt(mixed.p99)} ms (rounds: ${rounds(mixes)})`,
          target: `< ${TARGET_P99_MS} ms`,
          met: mixed.p99 < TARGET_P99_MS,
        },
        {
          metric: 'mix: errors (connection, timeout after 10 s, non-2xx), all rounds',
          value: `${mixFailures} (${fmt(mixRequests)} responses, median round ${fmt(mixed.rps)} req/s)`,
          target: '0',
          met: mixFailures === 0 && mixRequests > 0,
        },
        {
          metric: 'mix: CPU time (ms), all rounds',
          value: `API ${fmt(mixCpu.api!)}, PostgreSQL ${fmt(mixCpu.postgres!)}, ${generator === 'h2load' ? `h2load ${fmt(generatorCpu)}, bench process ${fmt(mixCpu.bench!)}` : `autocannon+sandbox ${fmt(mixCpu.bench!)}`} (${ROUNDS * roundS} s × 2 cores = ${fmt(ROUNDS * roundS * 2000)})`,
        },
        { metric: 'reference: /healthz, same load', value: `${line(reference)} (p99 rounds: ${rounds(references)})` },
        { metric: 'mix p99 ÷ reference p99 (median rounds)', value: `×${fmt(mixed.p99 / Math.max(1, reference.p99), 2)}` },
        {
          metric: 'mix, same API with the per-tenant budgets off (before them), same rounds',
          value: `${line(unbudgetedMix)} (p99 rounds: ${rounds(unbudgetedMixes)})`,
        },
        {
          metric: 'mix with budgets ÷ without (median rounds): p99, throughput',
          value: `p99 ×${fmt(mixed.p99 / Math.max(1, unbudgetedMix.p99), 2)}, req/s ×${fmt(mixed.rps / Math.max(1, unbudgetedMix.rps), 2)}`,
          target: 'p99 ≤ ×1.1',
          met: mixed.p99 <= unbudgetedMix.p99 * 1.1,
        },
        { metric: `mix, the ${roundS} s right after a sync finished (every report recomputed once)`, value: line(afterSync) },
        { metric: '/users only (warm)', value: line(usersOnly) },
        { metric: '/utilization only (warm)', value: line(utilizationOnly) },
        { metric: 'mix while a sync runs (a page committed every second)', value: line(churn) },
        { metric: 'mix, uncached API (REPORT_CACHE_TTL_SECONDS=0)', value: line(uncachedMix) },
        ...alone.map((a) => ({
          metric: `alone (1 client): ${short70(a.path)}`,
          value: `uncached p50 ${fmt(a.uncachedP50, 1)} ms (max ${fmt(a.uncachedMax, 1)}); cold (first after invalidation) p50 ${fmt(a.coldP50, 1)} ms (max ${fmt(a.coldMax, 1)}); warm p50 ${fmt(a.warmP50, 1)} ms`,
        })),
      ],
    };
  },
};
