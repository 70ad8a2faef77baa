/**
 * The HTTP load generator of scenario 6: closed-loop connections cycling through a list of paths.
 *
 * It prefers h2load (nghttp2's load generator, in C++; Debian package `nghttp2-client`) and falls back to
 * autocannon (JavaScript, an npm dependency). The choice matters on a 2-core machine: the generator shares
 * the cores with the API it measures, and autocannon spends about as much CPU reading responses as the API
 * spends producing them, which shows up as queueing in every latency it reports. wrk was tried too: on
 * this machine it reported a p99 ten times that of h2load and of a plain Go client against the same
 * server (docs/benchmarks.md). Latency is per request, from request sent to response read, over
 * `durationS` seconds. `BENCH_LOAD_GENERATOR=autocannon|h2load` forces one.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';

export interface LoadResult {
  /** Latency percentiles and maximum, ms. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  requests: number;
  rps: number;
  /** Connection and socket errors (not timeouts). */
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Responses by status class (429s are in `4xx`). */
  status4xx?: number;
  status5xx?: number;
  /** CPU time (user + system, ms) of the h2load process; autocannon's is the bench process's own. */
  generatorCpuMs?: number;
}

export interface LoadOptions {
  url: string;
  paths: string[];
  headers: Record<string, string>;
  connections: number;
  durationS: number;
}

export type LoadGeneratorName = 'h2load' | 'autocannon';

const TIMEOUT_S = 10;

/** The generator this run uses: `BENCH_LOAD_GENERATOR`, else h2load when it is on PATH, else autocannon. */
export function loadGeneratorName(): LoadGeneratorName {
  const forced = process.env.BENCH_LOAD_GENERATOR;
  if (forced === 'h2load' || forced === 'autocannon') return forced;
  if (forced) throw new Error(`BENCH_LOAD_GENERATOR must be h2load or autocannon, not ${JSON.stringify(forced)}`);
  return spawnSync('h2load', ['--version']).error ? 'autocannon' : 'h2load';
}

export function runLoad(generator: LoadGeneratorName, opts: LoadOptions): Promise<LoadResult> {
  return generator === 'h2load' ? h2load(opts) : autocannonLoad(opts);
}

async function autocannonLoad({ url, paths, headers, connections, durationS }: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url,
    connections,
    duration: durationS,
    headers,
    requests: paths.map((p) => ({ method: 'GET' as const, path: p })),
    timeout: TIMEOUT_S,
  });
  return {
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    requests: result.requests.total,
    rps: result.requests.average,
    errors: result.errors - result.timeouts,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    status4xx: result['4xx'],
    status5xx: result['5xx'],
  };
}

/** The value at quantile `q` of sorted numbers (nearest rank). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

/**
 * h2load over HTTP/1.1, one request in flight per connection, cycling through the paths (it takes them as
 * URIs and issues them round robin). Its per-request log (start, status, microseconds to the end of the
 * response) gives the percentiles; its summary gives failures and status classes.
 */
async function h2load({ url, paths, headers, connections, durationS }: LoadOptions): Promise<LoadResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-h2load-'));
  try {
    const logFile = path.join(dir, 'requests.tsv');
    const args = [
      '--h1',
      '-c',
      String(connections),
      '-t',
      '1',
      '-D',
      String(durationS),
      `--log-file=${logFile}`, // (its -N inactivity timeout trips an assertion in libev: timeouts are counted from the log)
      ...Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
      ...paths.map((p) => `${url}${p}`),
    ];
    const output = await new Promise<string>((resolve, reject) => {
      // bash's `times` prints its children's CPU time (user, system) once h2load has exited.
      const child = spawn('bash', ['-c', 'h2load "$@"; rc=$?; times; exit $rc', 'h2load', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`h2load exited with ${code}: ${out}`))));
    });
    return parseH2load(output, readFileSync(logFile, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * h2load's result: its printed summary (`requests:`, `status codes:`, `finished in`, then bash's `times`)
 * and its per-request log (tab-separated: start in µs since the epoch, status, µs to the end of the
 * response). `errored` counts failures below HTTP (resets, refused connections); 4xx and 5xx are in the
 * status codes; a request slower than the timeout counts as a timeout.
 */
export function parseH2load(output: string, requestLog: string): LoadResult {
  const summary = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(output);
  const statuses = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(output);
  const finished = /finished in ([\d.]+)s/.exec(output);
  if (!summary || !statuses || !finished) throw new Error(`h2load printed no summary: ${output}`);
  const [, , , done, , , errored] = summary.map(Number);
  const latencies = new Float64Array(
    requestLog
      .split('\n')
      .filter(Boolean)
      .map((line) => Number(line.split('\t')[2]) / 1000),
  ).sort();
  const times = [...output.matchAll(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/gm)].at(-1); // the second line: the children's
  return {
    p50: quantile(latencies, 0.5),
    p90: quantile(latencies, 0.9),
    p99: quantile(latencies, 0.99),
    max: latencies.at(-1) ?? NaN,
    requests: done!,
    rps: done! / Number(finished[1]),
    errors: errored!,
    timeouts: latencies.filter((ms) => ms > TIMEOUT_S * 1000).length,
    non2xx: Number(statuses[2]) + Number(statuses[3]) + Number(statuses[4]),
    status4xx: Number(statuses[3]),
    status5xx: Number(statuses[4]),
    generatorCpuMs: times ? (Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4])) * 1000 : undefined,
  };
}
