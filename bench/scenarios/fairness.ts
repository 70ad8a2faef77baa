/**
 * Scenario 9: one tenant hammering, another tenant's latency. A "victim" tenant (10,000 users) uses the API
 * at a steady 20 requests a second (open loop: a request every 50 ms whatever the answers), 19 of 20 of its
 * cached reports and one report a second that the cache cannot answer (a new `inactiveDays`). A "noisy"
 * tenant (100,000 users) hammers with 16 closed-loop connections (h2load, or autocannon) through 400
 * distinct uncached reports (`sort=-ticketInteractions` and `/utilization`, each 0.5–1 s of PostgreSQL) and,
 * every eleventh request, a users.csv export of all its users — retrying at once whatever it is told (four
 * h2load processes of four connections, each starting at another quarter of the list).
 *
 * Phases, on API processes of their own over the same database: the victim alone (its unloaded latency) and
 * while the noisy tenant hammers an API with the **default budgets** (README, "Fair sharing between
 * tenants": budgets, one report computation or export at a time per tenant, the tarpit), alternating twice
 * and pooled; then hammered on an API with every budget **off** (what it was before). Under load the
 * victim is measured once the noisy tenant has spent the burst its budgets allow (10 s of report
 * computation), which is reported apart. Target: the victim's p99 under load at most 2× its unloaded p99,
 * for its cached and for its uncached reports, and the noisy tenant gets 429s.
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
  return {
    n: samples.length,
    p50: quantile(ms, 0.5),
    p99: quantile(ms, 0.99),
    max: ms[ms.length - 1] ?? NaN,
    errors: samples.filter((s) => s.status !== 200).length,
  };
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
    const path = cached
      ? cachedPaths[i % cachedPaths.length]
      : `/v1/integrations/${victim.integrationId}/users?sort=-ticketInteractions&limit=50&inactiveDays=${(uncachedDays++ % 400) + 1}`;
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
  title: "9. One tenant hammering, another tenant's latency",
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
    /** The victim for `seconds` (after `skipS` of the noisy tenant's hammering when `hammer`). */
    const phase = async (url: string, hammer: boolean, skipS = 0) => {
      await warm(url);
      if (!hammer) return { victim: await victimLoad(url, victim, cachedPaths, seconds), noisy: undefined };
      // Four generators of four connections, each starting at another quarter of the paths: h2load sends every
      // connection through the list from its start, and connections in step would mostly share computations.
      const noise = Promise.all(
        [0, 1, 2, 3].map((k) => {
          const at = Math.floor((k * noisyPaths.length) / 4);
          const paths = [...noisyPaths.slice(at), ...noisyPaths.slice(0, at)];
          return runLoad(generator, {
            url,
            paths,
            headers: { authorization: `Bearer ${noisy.apiKey}` },
            connections: NOISY_CONNECTIONS / 4,
            durationS: skipS + seconds + 1,
          });
        }),
      ).then(sumLoads);
      await sleep(500);
      const samples = await victimLoad(url, victim, cachedPaths, skipS + seconds);
      return { victim: samples.filter((x) => x.at >= skipS * 1000), skipped: samples.filter((x) => x.at < skipS * 1000), noisy: await noise };
    };
    // Alone and hammered in alternation, twice, pooled: this machine's speed drifts from one minute to the
    // next (other work on the host), and interleaving keeps the drift out of the comparison. The second
    // hammering finds the noisy tenant's budget nearly spent (20 s refill: a short burst, skipped too).
    log(`fairness (${generator}): victim alone and with the noisy tenant (default budgets), twice; then with the budgets off`);
    const alone1 = await phase(limited.url, false);
    const loaded1 = await phase(limited.url, true, BURST_S);
    const alone2 = await phase(limited.url, false);
    const loaded2 = await phase(limited.url, true, 10);
    await sleep(2_000);
    const withoutBudgets = await phase(unlimited.url, true, 5);
    await limited.stop();
    await unlimited.stop();

    const aloneSamples = [...alone1.victim, ...alone2.victim];
    const loadedSamples = [...loaded1.victim, ...loaded2.victim];
    const cached = (xs: Sample[]) => xs.filter((x) => x.cached);
    const uncached = (xs: Sample[]) => xs.filter((x) => !x.cached);
    const unloaded = summarize(aloneSamples);
    const loaded = summarize(loadedSamples);
    const loadedBurst = summarize(loaded1.skipped!);
    const nobudget = summarize(withoutBudgets.victim);
    const classes = {
      cached: { unloaded: summarize(cached(aloneSamples)), loaded: summarize(cached(loadedSamples)), off: summarize(cached(withoutBudgets.victim)) },
      uncached: { unloaded: summarize(uncached(aloneSamples)), loaded: summarize(uncached(loadedSamples)), off: summarize(uncached(withoutBudgets.victim)) },
    };
    const noisyWithBudgets = sumLoads([loaded1.noisy!, loaded2.noisy!]);
    const noisyLine = (r: LoadResult) =>
      `${fmt(r.requests)} responses: ${fmt(r.requests - r.non2xx)} 2xx, ${fmt(r.status4xx ?? NaN)} 4xx (429), ${fmt(r.status5xx ?? NaN)} 5xx`;
    const ratio = (a: Summary, b: Summary) => a.p99 / b.p99;
    const cachedRatio = ratio(classes.cached.loaded, classes.cached.unloaded);
    const uncachedRatio = ratio(classes.uncached.loaded, classes.uncached.unloaded);
    log(
      `fairness: victim alone ${line(unloaded)}; hammered with budgets ${line(loaded)}; without ${line(nobudget)}; p99 ratios cached ×${fmt(cachedRatio, 2)}, uncached ×${fmt(uncachedRatio, 2)}`,
    );
    return {
      title: this.title,
      metrics: { generator, unloaded, loaded, loadedBurst, nobudget, classes, noisyWithBudgets, noisyWithoutBudgets: withoutBudgets.noisy },
      rows: [
        {
          metric: 'load',
          value: `victim: ${fmt(victim.users)} users, 20 req/s open loop (19 of 20 cached reports, 1/s a report the cache cannot answer); noisy: ${fmt(noisy.users)} users, ${NOISY_CONNECTIONS} closed-loop connections (${generator}) over 400 uncached heavy reports and users.csv exports, retrying at once; alone / hammered / alone / hammered, ${seconds} s measured each, pooled; then hammered with the budgets off`,
        },
        { metric: 'victim alone: cached reports', value: line(classes.cached.unloaded) },
        { metric: 'victim alone: uncached reports', value: line(classes.uncached.unloaded) },
        {
          metric: 'victim hammered (default budgets): cached reports',
          value: `${line(classes.cached.loaded)} — p99 ×${fmt(cachedRatio, 2)} of alone`,
          target: '≤ ×2',
          met: cachedRatio <= 2 && classes.cached.loaded.errors === 0,
        },
        {
          metric: 'victim hammered (default budgets): uncached reports',
          value: `${line(classes.uncached.loaded)} — p99 ×${fmt(uncachedRatio, 2)} of alone`,
          target: '≤ ×2',
          met: uncachedRatio <= 2 && classes.uncached.loaded.errors === 0,
        },
        {
          metric: 'victim, all requests: alone → hammered',
          value: `${line(unloaded)} → ${line(loaded)}: p99 ×${fmt(ratio(loaded, unloaded), 2)} (the p99 of a 95/5 mix falls among the slow 5 %, so it mostly says how their spread moved)`,
        },
        { metric: `victim during the noisy tenant's first ${BURST_S} s (its burst, not in the above)`, value: line(loadedBurst) },
        {
          metric: 'noisy tenant, default budgets (both hammerings)',
          value: noisyLine(noisyWithBudgets),
          target: '429s',
          met: (noisyWithBudgets.status4xx ?? 0) > 0,
        },
        {
          metric: 'victim hammered, budgets off (as before): cached / uncached',
          value: `${line(classes.cached.off)} (p99 ×${fmt(ratio(classes.cached.off, classes.cached.unloaded), 2)}) / ${line(classes.uncached.off)} (p99 ×${fmt(ratio(classes.uncached.off, classes.uncached.unloaded), 2)})`,
        },
        { metric: 'noisy tenant, budgets off', value: noisyLine(withoutBudgets.noisy!) },
      ],
    };
  },
};
