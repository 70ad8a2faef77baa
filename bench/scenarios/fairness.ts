/**
 * Scenario 9: one tenant hammering, another tenant's latency. A "victim" tenant (10,000 users) uses the API
 * at a steady 20 requests a second (open loop: a request every 50 ms whatever the answers), 19 of 20 of its
 * cached reports and one report a second that the cache cannot answer (a new `inactiveDays`). A "noisy"
 * tenant (100,000 users) hammers with 16 closed-loop connections (h2load, or autocannon) through 400
 * distinct uncached reports (`sort=-ticketInteractions` and `/utilization`, each 0.5–1 s of PostgreSQL) and,
 * every eleventh request, a users.csv export of all its users — retrying at once whatever it is told (four
 * h2load processes of four connections, each starting at another quarter of the list).
 *
 * Three phases, each on an API process of its own over the same database: the victim alone (its unloaded
 * latency), the victim while the noisy tenant hammers an API with the **default budgets** (README, "Fair
 * sharing between tenants": budgets, one report computation or export at a time per tenant), and the
 * same against an API with every budget **off** (what it was before).
 * Under load the victim is measured from 15 s after the hammering starts: the noisy tenant first spends
 * the burst its budgets allow (10 s of report computation), which is reported apart.
 * Target: the victim's p99 under load at most 2× its unloaded p99, and the noisy tenant gets 429s.
 */
import { log, sleep } from '../harness';
import { fmt, type Scenario } from '../context';
import { loadGeneratorName, quantile, runLoad, type LoadResult } from '../loadGenerator';
import { writtenWorkspace, type WrittenWorkspace } from '../writtenWorkspace';

const DEFAULT_BUDGETS = {
  API_RATE_LIMIT_REQUESTS: '600/10s',
  API_RATE_LIMIT_REPORTS: '100/1m',
  API_RATE_LIMIT_CSV: '30/1h',
  API_CSV_CONCURRENCY: '1',
  API_REPORT_CONCURRENCY: '1',
  API_RATE_LIMIT_INTEGRATIONS: '20/1h',
};
const NO_BUDGETS = {
  API_RATE_LIMIT_REQUESTS: 'off',
  API_RATE_LIMIT_REPORTS: 'off',
  API_RATE_LIMIT_CSV: 'off',
  API_CSV_CONCURRENCY: '100',
  API_REPORT_CONCURRENCY: '100',
  API_RATE_LIMIT_INTEGRATIONS: 'off',
};
const VICTIM_INTERVAL_MS = 50;
const NOISY_CONNECTIONS = 16;
const BURST_S = 30;

interface Sample {
  at: number;
  ms: number;
  status: number;
  cached: boolean;
}

interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
}

function summarize(samples: Sample[]): Summary {
  const ms = Float64Array.from(samples.map((s) => s.ms)).sort();
  return { n: samples.length, p50: quantile(ms, 0.5), p99: quantile(ms, 0.99), max: ms[ms.length - 1] ?? NaN, errors: samples.filter((s) => s.status !== 200).length };
}

let uncachedDays = 0;

/** Several generators' results as one (counts added; latencies: the worst of them). */
function sumLoads(rs: LoadResult[]): LoadResult {
  const sum = (f: (r: LoadResult) => number) => rs.reduce((a, r) => a + f(r), 0);
  return {
    p50: Math.max(...rs.map((r) => r.p50)),
    p90: Math.max(...rs.map((r) => r.p90)),
    p99: Math.max(...rs.map((r) => r.p99)),
    max: Math.max(...rs.map((r) => r.max)),
    requests: sum((r) => r.requests),
    rps: sum((r) => r.rps),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    non2xx: sum((r) => r.non2xx),
    status4xx: sum((r) => r.status4xx ?? 0),
    status5xx: sum((r) => r.status5xx ?? 0),
  };
}

/** The victim's open-loop load for `seconds`: a request every 50 ms, every 20th one a report the cache cannot answer. */
async function victimLoad(url: string, victim: WrittenWorkspace, cachedPaths: string[], seconds: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  const inflight: Array<Promise<void>> = [];
  const t0 = performance.now();
  const headers = { authorization: `Bearer ${victim.apiKey}`, 'accept-encoding': 'gzip' };
  for (let i = 0; performance.now() - t0 < seconds * 1000; i++) {
    const cached = i % 20 !== 19;
    // inactiveDays 1..400 in turn: never one asked within the cache's TTL (a minute) in this run.
    const path = cached ? cachedPaths[i % cachedPaths.length] : `/v1/integrations/${victim.integrationId}/users?sort=-ticketInteractions&limit=50&inactiveDays=${(uncachedDays++ % 400) + 1}`;
    const start = performance.now();
    inflight.push(
      fetch(`${url}${path}`, { headers })
        .then(async (res) => {
          await res.arrayBuffer();
          samples.push({ at: start - t0, ms: performance.now() - start, status: res.status, cached });
        })
        .catch(() => {
          samples.push({ at: start - t0, ms: performance.now() - start, status: 0, cached });
        }),
    );
    const next = t0 + (i + 1) * VICTIM_INTERVAL_MS;
    await sleep(Math.max(0, next - performance.now()));
  }
  await Promise.all(inflight);
  return samples;
}

const line = (s: Summary) => `p50 ${fmt(s.p50, 1)} ms, p99 ${fmt(s.p99, 1)} ms, max ${fmt(s.max)} ms, ${fmt(s.n)} requests, ${s.errors} not 200`;

export const fairness: Scenario = {
  name: 'fairness',
  title: '9. One tenant hammering, another tenant\'s latency',
  async run(ctx) {
    const { h, preset } = ctx;
    const victim = await writtenWorkspace(h, 'fair-victim', 10_000, 50_000);
    const noisy = await writtenWorkspace(h, 'csv-export', 100_000, preset.name === 'full' ? 1_000_000 : 300_000);
    const limited = await h.startApi(DEFAULT_BUDGETS);
    const unlimited = await h.startApi(NO_BUDGETS);
    const vbase = `/v1/integrations/${victim.integrationId}`;
    const cachedPaths = [
      `${vbase}/users?seat=paid&usage=inactive&limit=100`,
      `${vbase}/users?role=agent,admin&sort=-lastActivityAt&limit=100`,
      `${vbase}/users?q=son&limit=50`,
      `${vbase}/utilization`,
      `${vbase}/users?sort=-ticketInteractions&limit=100`,
      `${vbase}/utilization?inactiveDays=60`,
    ];
    const nbase = `/v1/integrations/${noisy.integrationId}`;
    const noisyPaths: string[] = [];
    for (let d = 1; d <= 200; d++) {
      noisyPaths.push(`${nbase}/users?sort=-ticketInteractions&limit=500&inactiveDays=${d}`, `${nbase}/utilization?inactiveDays=${d}`);
      if (d % 5 === 0) noisyPaths.push(`${nbase}/users.csv?includeDeleted=true&sort=-ticketInteractions`);
    }
    const generator = loadGeneratorName();
    const warm = async (url: string) => {
      for (const p of cachedPaths) {
        const res = await fetch(`${url}${p}`, { headers: { authorization: `Bearer ${victim.apiKey}` } });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`GET ${p}: ${res.status}`);
      }
    };
    const seconds = preset.name === 'full' ? 30 : 20;
    const phase = async (url: string, hammer: boolean) => {
      await warm(url);
      if (!hammer) return { victim: await victimLoad(url, victim, cachedPaths, seconds), noisy: undefined };
      // Four generators of four connections, each starting at another quarter of the paths: h2load sends every
      // connection through the list from its start, and connections in step would mostly share computations.
      const noise = Promise.all(
        [0, 1, 2, 3].map((k) => {
          const at = Math.floor((k * noisyPaths.length) / 4);
          const paths = [...noisyPaths.slice(at), ...noisyPaths.slice(0, at)];
          return runLoad(generator, { url, paths, headers: { authorization: `Bearer ${noisy.apiKey}` }, connections: NOISY_CONNECTIONS / 4, durationS: BURST_S + seconds + 1 });
        }),
      ).then(sumLoads);
      await sleep(500);
      const samples = await victimLoad(url, victim, cachedPaths, BURST_S + seconds);
      return { victim: samples, noisy: await noise };
    };
    log(`fairness (${generator}): victim alone; then with the noisy tenant on an API with the default budgets; then on one without`);
    const alone = await phase(limited.url, false);
    await sleep(1_000);
    const withBudgets = await phase(limited.url, true);
    await sleep(2_000);
    const withoutBudgets = await phase(unlimited.url, true);
    await limited.stop();
    await unlimited.stop();

    const steady = (s: Sample[]) => s.filter((x) => x.at >= BURST_S * 1000);
    const burst = (s: Sample[]) => s.filter((x) => x.at < BURST_S * 1000);
    const unloaded = summarize(alone.victim);
    const loaded = summarize(steady(withBudgets.victim));
    const loadedBurst = summarize(burst(withBudgets.victim));
    const nobudget = summarize(steady(withoutBudgets.victim));
    const byClass = (s: Sample[]) => `cached ${line(summarize(s.filter((x) => x.cached)))}; uncached ${line(summarize(s.filter((x) => !x.cached)))}`;
    const noisyLine = (r: LoadResult) => `${fmt(r.requests)} responses (${fmt(r.rps)}/s): ${fmt(r.requests - r.non2xx)} 2xx, ${fmt(r.status4xx ?? NaN)} 4xx (429), ${fmt(r.status5xx ?? NaN)} 5xx; p50 ${fmt(r.p50)} ms`;
    const ratio = loaded.p99 / unloaded.p99;
    log(`fairness: victim alone ${line(unloaded)}; with budgets ${line(loaded)} (×${fmt(ratio, 2)}); without ${line(nobudget)} (×${fmt(nobudget.p99 / unloaded.p99, 2)})`);
    return {
      title: this.title,
      metrics: { generator, unloaded, loaded, loadedBurst, nobudget, noisyWithBudgets: withBudgets.noisy, noisyWithoutBudgets: withoutBudgets.noisy, samples: { alone: alone.victim.length } },
      rows: [
        { metric: 'load', value: `victim: ${fmt(victim.users)} users, 20 req/s open loop (19 of 20 cached reports, 1/s uncached); noisy: ${fmt(noisy.users)} users, ${NOISY_CONNECTIONS} closed-loop connections (${generator}) over 400 uncached reports and users.csv exports; ${seconds} s measured per phase` },
        { metric: 'victim alone (unloaded)', value: `${line(unloaded)} — ${byClass(alone.victim)}` },
        { metric: `victim while the noisy tenant hammers, default budgets (from ${BURST_S} s on)`, value: `${line(loaded)} — ${byClass(steady(withBudgets.victim))}`, target: '', met: undefined },
        { metric: 'victim p99 with default budgets ÷ unloaded p99', value: `×${fmt(ratio, 2)}`, target: '≤ ×2', met: ratio <= 2 && loaded.errors === 0 },
        { metric: `victim during the noisy tenant's first ${BURST_S} s (its burst)`, value: line(loadedBurst) },
        { metric: 'noisy tenant, default budgets', value: noisyLine(withBudgets.noisy!), target: '429s', met: (withBudgets.noisy!.status4xx ?? 0) > 0 },
        { metric: 'victim while the noisy tenant hammers, budgets off (as before)', value: `${line(nobudget)} (×${fmt(nobudget.p99 / unloaded.p99, 2)} of unloaded) — ${byClass(steady(withoutBudgets.victim))}` },
        { metric: 'noisy tenant, budgets off', value: noisyLine(withoutBudgets.noisy!) },
      ],
    };
  },
};
