/**
 * Scenario 6: the API under load. autocannon (in the bench process) drives 100 concurrent connections
 * against the API process, cycling through filtered `/users` pages (first pages and a second page by
 * cursor) and `/utilization` of scenario 1's workspace. The same load against `/healthz` (no database, no
 * Temporal) is measured in the same run as the machine's reference; per-endpoint runs show which part costs.
 */
import autocannon from 'autocannon';
import { cpuDelta, cpuSnapshot, log, sleep } from '../harness';
import { fmt, syncedWorkspace, type Scenario } from '../context';

const TARGET_P99_MS = 50;

interface LoadResult {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  requests: number;
  rps: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

async function load(url: string, paths: string[], headers: Record<string, string>, connections: number, durationS: number): Promise<LoadResult> {
  const result = await autocannon({
    url,
    connections,
    duration: durationS,
    headers,
    requests: paths.map((path) => ({ method: 'GET' as const, path })),
    timeout: 10,
  });
  return {
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    requests: result.requests.total,
    rps: result.requests.average,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  };
}

export const apiLoad: Scenario = {
  name: 'api',
  title: '6. API under load',
  async run(ctx) {
    const { h, preset } = ctx;
    const synced = await syncedWorkspace(ctx);
    const base = `/v1/integrations/${synced.integrationId}`;
    const headers = { authorization: `Bearer ${h.tenantKey}` };
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
    const first = await h.api('GET', usersPaths[1].slice(0), undefined, h.tenantKey);
    if (first.status !== 200) throw new Error(`GET users failed: ${first.status} ${first.text}`);
    if (first.json.nextCursor) usersPaths.push(`${usersPaths[1]}&cursor=${encodeURIComponent(first.json.nextCursor)}`);
    const utilizationPaths = [`${base}/utilization`, `${base}/utilization?inactiveDays=60`];
    for (const p of [...usersPaths, ...utilizationPaths]) {
      const res = await h.api('GET', p, undefined, h.tenantKey);
      if (res.status !== 200) throw new Error(`GET ${p} failed: ${res.status} ${res.text}`);
    }
    // The mix: each connection cycles through 8 /users requests and 2 /utilization requests.
    const mix = [...usersPaths.slice(0, 4), utilizationPaths[0], ...usersPaths.slice(4), utilizationPaths[1]];
    const { connections, durationS } = preset.apiLoad;
    const short = Math.max(5, Math.round(durationS / 2));

    log(`api: warming up, then ${connections} connections for ${durationS} s (reference /healthz, the mix), ${short} s per endpoint`);
    await load(h.apiUrl, mix, headers, 10, 2);
    // Service time of each request alone: one client, one request at a time.
    const alone: Array<{ path: string; p50: number; max: number }> = [];
    for (const p of [...usersPaths, ...utilizationPaths]) {
      const times: number[] = [];
      for (let i = 0; i < 15; i++) {
        const t0 = performance.now();
        const res = await fetch(`${h.apiUrl}${p}`, { headers });
        await res.arrayBuffer();
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      alone.push({ path: p.slice(base.length), p50: times[Math.floor(times.length / 2)], max: times[times.length - 1] });
    }
    log(`api: alone ${alone.map((a) => `${a.path} ${fmt(a.p50, 1)} ms`).join('; ')}`);
    const reference = await load(h.apiUrl, ['/healthz'], {}, connections, short);
    await sleep(500);
    const cpu0 = await cpuSnapshot(h, { api: h.apiPid });
    const mixed = await load(h.apiUrl, mix, headers, connections, durationS);
    const mixCpu = cpuDelta(cpu0, await cpuSnapshot(h, { api: h.apiPid }));
    await sleep(500);
    const usersOnly = await load(h.apiUrl, usersPaths, headers, connections, short);
    await sleep(500);
    const utilizationOnly = await load(h.apiUrl, utilizationPaths, headers, connections, short);
    const failed = (r: LoadResult) => r.errors + r.timeouts + r.non2xx;
    const line = (r: LoadResult) => `p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, ${fmt(r.rps)} req/s, ${failed(r)} errors`;
    log(`api: mix ${line(mixed)}; reference ${line(reference)}`);
    return {
      title: this.title,
      metrics: { workspace: { users: synced.users, events: synced.events }, connections, durationS, alone, mixCpuMs: mixCpu, mix: mixed, reference, usersOnly, utilizationOnly, paths: { users: usersPaths, utilization: utilizationPaths } },
      rows: [
        { metric: 'load', value: `${connections} connections; ${fmt(synced.users)}-user workspace, ${fmt(synced.events)} events; ${durationS} s mix of ${usersPaths.length} /users and 2 /utilization requests` },
        { metric: 'mix: p50 latency', value: `${fmt(mixed.p50)} ms` },
        { metric: 'mix: p99 latency', value: `${fmt(mixed.p99)} ms`, target: `< ${TARGET_P99_MS} ms`, met: mixed.p99 < TARGET_P99_MS },
        { metric: 'mix: errors (connection, timeout after 10 s, non-2xx)', value: `${failed(mixed)} (${fmt(mixed.requests)} responses, ${fmt(mixed.rps)} req/s)`, target: '0', met: failed(mixed) === 0 && mixed.requests > 0 },
        { metric: 'mix: CPU time (ms) during the run', value: `API ${fmt(mixCpu.api)}, PostgreSQL ${fmt(mixCpu.postgres)}, autocannon+sandbox ${fmt(mixCpu.bench)} (${durationS} s × 2 cores = ${fmt(durationS * 2000)})` },
        { metric: '/users only', value: line(usersOnly) },
        { metric: '/utilization only', value: line(utilizationOnly) },
        { metric: 'reference: /healthz, same load', value: line(reference) },
        { metric: 'mix p99 ÷ reference p99', value: `×${fmt(mixed.p99 / Math.max(1, reference.p99), 1)}` },
        ...alone.map((a) => ({ metric: `alone (1 client): ${a.path.length > 70 ? `${a.path.slice(0, 67)}…` : a.path}`, value: `p50 ${fmt(a.p50, 1)} ms, max ${fmt(a.max, 1)} ms` })),
      ],
    };
  },
};
