/**
 * The benchmark harness: one isolated copy of the whole system per `npm run bench`.
 *
 * - its own PostgreSQL database (created, migrated, dropped at the end),
 * - its own Temporal dev server on a free port,
 * - the Zendesk sandbox in this process,
 * - the API as a separate process (`src/api-server.ts` via tsx),
 * - workers as separate processes (`src/worker.ts` via tsx, with a prebuilt workflow bundle and the Node
 *   flags of `npm run start:worker` as in production), started fresh per scenario so that each one's peak
 *   RSS (VmHWM in /proc/<pid>/status) belongs to that scenario alone.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import '../src/db/database'; // its int8 type parser: ids and counts as JS numbers
import { migrateToLatest } from '../src/db/migrator';
import type { Database, SyncRun } from '../src/db/tables';
import { startSandbox, type Sandbox } from '../src/sandbox';
import { startDevServer, type DevServer } from '../src/temporal/devServer';
import { bundleWorkflows } from '../src/temporal/worker';
import { freePort } from '../scripts/test';
import { adminQuery as adminStatement, databaseUrl as databaseUrlFor } from '../test/helpers/adminDb';
import { spawnTsx, stopChild, waitReady } from '../test/helpers/processes';
import { readProcMemory, type ProcMemory } from './procStats';
import { productionWorkerNodeFlags } from './workerFlags';

export const ROOT = path.resolve(__dirname, '..');
export const CLIENT_ID = 'zdg-bench-client';
export const CLIENT_SECRET = 'bench-client-secret-0123456789';
const ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** A child process of the system (API or worker) whose output is kept for error messages. */
export interface ServiceProcess {
  child: ChildProcess;
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

/** A worker process with its memory sampled every `sampleMs`. */
export interface WorkerHandle extends ServiceProcess {
  /** RSS right after it became ready. */
  readyRss: number;
  /** Highest VmRSS sampled and the kernel's VmHWM (peak since start) at the last sample. */
  peak(): ProcMemory;
  /** Highest V8 heap (total) and external memory seen on the worker's /metrics (sampled every second), bytes. */
  peakHeap(): { heapTotal: number; heapUsed: number; external: number };
  /** One sample a second since start: seconds, VmRSS, V8 heap total and used (MB). */
  series(): Array<[number, number, number, number]>;
  /** Resets the sampled peak (VmHWM cannot be reset, so `peak().hwm` stays the process's lifetime peak). */
  resetSampledPeak(): void;
  metricsUrl: string;
  /** The Node command-line flags it was started with. */
  nodeFlags: string[];
}

/**
 * Stops a worker: SIGTERM (the SDK drains), then, once its health server has closed (which src/worker.ts
 * does right after the drain), SIGKILL if it is still there a second later: a guard, since src/worker.ts
 * exits by itself once drained, so that a stuck worker cannot hold up the benchmark.
 */
async function stopWorkerChild(child: ChildProcess, healthUrl: string): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const deadline = Date.now() + 30_000;
  let closedAt: number | undefined;
  for (;;) {
    const done = await Promise.race([exited.then(() => true), sleep(100).then(() => false)]);
    if (done) return;
    const up = await fetch(healthUrl).then(
      () => true,
      () => false,
    );
    if (!up) closedAt ??= Date.now();
    if ((closedAt !== undefined && Date.now() - closedAt > 1_000) || Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      return;
    }
  }
}

export interface HttpResult {
  status: number;
  json: any;
  text: string;
}

export interface Harness {
  databaseUrl: string;
  dbName: string;
  db: Kysely<Database>;
  temporal: DevServer;
  sandbox: Sandbox;
  apiUrl: string;
  /** The API process's internal port (/metrics, /readyz). */
  internalUrl: string;
  /** The API process. */
  apiPid: number;
  /** Environment shared by the API and worker processes. */
  env: Record<string, string>;
  tenantKey: string;
  api(method: string, urlPath: string, body?: unknown, key?: string): Promise<HttpResult>;
  /**
   * A fresh worker process, started with the Node flags of package.json's `start:worker` (the heap cap),
   * as production starts it; `{ nodeFlags: 'default' }` starts it with Node's defaults instead (for
   * comparison). `extraEnv.NODE_OPTIONS` is added to NODE_OPTIONS.
   */
  startWorker(extraEnv?: Record<string, string>, opts?: StartWorkerOptions): Promise<WorkerHandle>;
  /** Another API process on the same database and Temporal (e.g. `{ REPORT_CACHE_TTL_SECONDS: '0' }`), stopped with the harness. */
  startApi(extraEnv?: Record<string, string>): Promise<{ url: string; pid: number; stop(): Promise<void> }>;
  /** Creates the integration, approves consent; resolves with its id once the callback answered. */
  connect(workspace: string): Promise<string>;
  /** The first finished (not running) sync run of an integration not in `notIds`. */
  waitForSync(integrationId: string, opts?: { notIds?: string[]; timeoutMs?: number; pollMs?: number }): Promise<SyncRun>;
  stop(): Promise<void>;
}

export interface StartWorkerOptions {
  /** 'production' (default): the flags of `npm run start:worker`; 'default': none (Node's and V8's defaults). */
  nodeFlags?: 'production' | 'default';
}

export interface HarnessOptions {
  /** Extra environment for the API and worker processes. */
  env?: Record<string, string>;
}

/** Starts everything; `stop()` undoes all of it (also on SIGINT/SIGTERM of the bench). */
export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const cleanups: Array<() => Promise<void> | void> = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        log(`cleanup failed: ${(err as Error).message}`);
      }
    }
  };
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: cleaning up`);
    void stop().then(() => process.exit(130));
  };
  // Whatever happens to the bench (an exception nobody caught, PostgreSQL restarted under it by another
  // test run), its child processes must not outlive it.
  const children = new Set<ChildProcess>();
  const killChildren = () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const onFatal = (err: unknown) => {
    log(`fatal: ${err instanceof Error ? err.stack : String(err)}`);
    void stop().finally(() => process.exit(1));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('exit', killChildren);
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  cleanups.push(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', killChildren);
    process.off('uncaughtException', onFatal);
    process.off('unhandledRejection', onFatal);
  });

  try {
    // 1. Database.
    const dbName = `zwbench_${Date.now()}_${randomBytes(3).toString('hex')}`;
    // Short-lived admin connections: an idle one held for the whole run could be cut under us.
    const adminQuery = (text: string) => adminStatement(ADMIN_URL, text);
    await adminQuery(`CREATE DATABASE ${dbName}`);
    cleanups.push(() => adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
    const databaseUrl = databaseUrlFor(ADMIN_URL, dbName);
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 5, idleTimeoutMillis: 10_000 });
    // An idle connection ended by the server (e.g. the forced DROP at the end) must not crash the bench.
    pool.on('error', (err) => log(`database pool: ${err.message}`));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    cleanups.push(() => db.destroy());
    await migrateToLatest(db);
    log(`database ${dbName} migrated`);

    // 2. Temporal dev server and a prebuilt workflow bundle (what `npm run build` gives production workers).
    const temporal = await startDevServer({ port: await freePort(), log });
    children.add(temporal.process);
    cleanups.push(() => temporal.stop());
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'zwbench-'));
    cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
    const bundlePath = path.join(tmp, 'workflow-bundle.js');
    writeFileSync(bundlePath, (await bundleWorkflows()).code);
    log(`Temporal dev server ${temporal.address}, workflow bundle built`);

    // 3. Sandbox.
    const apiPort = await freePort();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const internalPort = await freePort();
    const internalUrl = `http://127.0.0.1:${internalPort}`;
    const sandbox = await startSandbox({
      exclusionSeconds: 0,
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [`${apiUrl}/v1/oauth/zendesk/callback`] }],
    });
    cleanups.push(() => sandbox.close());

    // 4. API process.
    const adminKey = randomBytes(32).toString('base64url');
    const env: Record<string, string> = {
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: `bench-${randomBytes(4).toString('hex')}`,
      PORT: String(apiPort),
      INTERNAL_PORT: String(internalPort),
      PUBLIC_URL: apiUrl,
      ADMIN_API_KEY: adminKey,
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      ZENDESK_CLIENT_ID: CLIENT_ID,
      ZENDESK_CLIENT_SECRET: CLIENT_SECRET,
      ZENDESK_BASE_URL: sandbox.baseUrlTemplate,
      // Every generated ticket event is in the first sync (the sandbox spreads them over 120 days).
      ACTIVITY_BACKFILL_DAYS: '3650',
      WORKFLOW_BUNDLE_PATH: bundlePath,
      LOG_LEVEL: 'warn',
      // Per-tenant budgets (src/api/limits) on — counted and reconciled as in production — but too large to be
      // met: the scenarios measure throughput and latency. Scenario 9 runs an API with the default budgets.
      API_RATE_LIMIT_REQUESTS: '100000000/1s',
      API_RATE_LIMIT_REPORTS: '100000000/1s',
      API_RATE_LIMIT_CSV: '100000000/1s',
      API_RATE_LIMIT_INTEGRATIONS: '100000000/1s',
      // Scenario 11's webhook receiver listens on this machine.
      WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
      API_CSV_CONCURRENCY: '100',
      API_REPORT_CONCURRENCY: '100',
      ...opts.env,
    };
    const apiProc = spawnTsx('src/api-server.ts', { env });
    children.add(apiProc.child);
    const apiService: ServiceProcess = { child: apiProc.child, pid: apiProc.child.pid!, output: apiProc.output, stop: () => stopChild(apiProc.child) };
    cleanups.push(() => apiService.stop());
    await waitReady(`${apiUrl}/healthz`, apiProc, 'the API');
    const startApi = async (extraEnv: Record<string, string> = {}) => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const proc = spawnTsx('src/api-server.ts', {
        env: { ...env, PORT: String(port), INTERNAL_PORT: String(await freePort()), PUBLIC_URL: url, ...extraEnv },
      });
      children.add(proc.child);
      const stopApi = () => stopChild(proc.child);
      cleanups.push(stopApi);
      await waitReady(`${url}/healthz`, proc, 'an extra API');
      return { url, pid: proc.child.pid!, stop: stopApi };
    };

    const api = async (method: string, urlPath: string, body?: unknown, key?: string): Promise<HttpResult> => {
      const res = await fetch(`${apiUrl}${urlPath}`, {
        method,
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: 'manual',
      });
      const text = await res.text();
      let json: any;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.status, json, text };
    };
    const tenant = await api('POST', '/v1/tenants', { name: 'Benchmark tenant' }, adminKey);
    if (tenant.status !== 201) throw new Error(`tenant creation failed: ${tenant.status} ${tenant.text}`);
    const tenantKey: string = tenant.json.apiKey;
    log(`sandbox ${sandbox.url}, API ${apiUrl} (pid ${apiService.pid})`);

    const workers = new Set<WorkerHandle>();
    cleanups.push(async () => {
      for (const w of workers) await w.stop();
    });

    const startWorker = async (extraEnv: Record<string, string> = {}, o: StartWorkerOptions = {}): Promise<WorkerHandle> => {
      const metricsPort = await freePort();
      const nodeOptions = [
        process.env.NODE_OPTIONS ?? '',
        extraEnv.NODE_OPTIONS ?? '',
        process.env.BENCH_PROFILE_DIR ? `--require ${path.join(ROOT, 'bench/profiler.cjs')}` : '',
      ]
        .join(' ')
        .trim();
      const profiling: Record<string, string> = nodeOptions ? { NODE_OPTIONS: nodeOptions } : {};
      const workerEnv = { ...env, METRICS_PORT: String(metricsPort), ...extraEnv, ...profiling };
      // Command-line flags, as `npm run start:worker` passes them (they win over NODE_OPTIONS). Then
      // BENCH_WORKER_NODE_OPTIONS: extra Node flags for experiments (e.g. another heap cap), after the
      // production ones so that they win. (WORKER_HEAP_MB in the bench's environment works too.)
      const nodeFlags = [
        ...(o.nodeFlags === 'default' ? [] : productionWorkerNodeFlags({ ...process.env, ...extraEnv })),
        ...(process.env.BENCH_WORKER_NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean),
      ];
      const proc = spawnTsx('src/worker.ts', { env: workerEnv, nodeFlags });
      const pid = proc.child.pid!;
      children.add(proc.child);
      await waitReady(`http://127.0.0.1:${metricsPort}/readyz`, proc, 'the worker');
      const ready = await readProcMemory(pid);
      let sampled = ready?.rss ?? 0;
      let hwm = ready?.hwm ?? 0;
      const sample = async () => {
        const m = await readProcMemory(pid);
        if (!m) return;
        sampled = Math.max(sampled, m.rss);
        hwm = Math.max(hwm, m.hwm);
      };
      const timer = setInterval(() => void sample(), 100);
      const heap = { heapTotal: 0, heapUsed: 0, external: 0 };
      const series: Array<[number, number, number, number]> = [];
      const born = performance.now();
      const metric = (text: string, name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? 0);
      const heapTimer = setInterval(() => {
        void fetch(`http://127.0.0.1:${metricsPort}/metrics`)
          .then((r) => r.text())
          .then(async (text) => {
            const m = await readProcMemory(pid);
            series.push([
              round((performance.now() - born) / 1000, 1),
              mb(m?.rss ?? 0),
              mb(metric(text, 'nodejs_heap_size_total_bytes')),
              mb(metric(text, 'nodejs_heap_size_used_bytes')),
            ]);
            heap.heapTotal = Math.max(heap.heapTotal, metric(text, 'nodejs_heap_size_total_bytes'));
            heap.heapUsed = Math.max(heap.heapUsed, metric(text, 'nodejs_heap_size_used_bytes'));
            heap.external = Math.max(heap.external, metric(text, 'nodejs_external_memory_bytes'));
          })
          .catch(() => undefined);
      }, 1_000);
      const handle: WorkerHandle = {
        child: proc.child,
        pid,
        nodeFlags,
        output: proc.output,
        readyRss: ready?.rss ?? 0,
        metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
        peak: () => ({ rss: sampled, hwm }),
        peakHeap: () => ({ ...heap }),
        series: () => [...series],
        resetSampledPeak: () => {
          sampled = 0;
        },
        stop: async () => {
          await sample();
          clearInterval(timer);
          clearInterval(heapTimer);
          if (process.env.BENCH_PROFILE_DIR && proc.child.exitCode === null) {
            // bench/profiler.cjs writes the CPU profile on SIGUSR2.
            proc.child.kill('SIGUSR2');
            const deadline = Date.now() + 10_000;
            while (!proc.output().includes('BENCH_PROFILE_WRITTEN') && Date.now() < deadline) await sleep(100);
          }
          workers.delete(handle);
          await stopWorkerChild(proc.child, `http://127.0.0.1:${metricsPort}/healthz`);
        },
      };
      workers.add(handle);
      return handle;
    };

    const connect = async (workspace: string): Promise<string> => {
      const created = await api('POST', '/v1/integrations/zendesk', { workspace }, tenantKey);
      if (created.status !== 201) throw new Error(`creating the integration of ${workspace} failed: ${created.status} ${created.text}`);
      // The sandbox workspace approves at once (consentMode 'allow'): follow its redirect to our callback.
      const consent = await fetch(created.json.authorizeUrl, { redirect: 'manual' });
      const location = consent.headers.get('location');
      if (consent.status !== 302 || !location) throw new Error(`consent of ${workspace}: expected a redirect, got ${consent.status}`);
      const callback = await fetch(location, { redirect: 'manual' });
      const html = await callback.text();
      if (callback.status !== 200) throw new Error(`callback of ${workspace}: ${callback.status} ${html.slice(0, 300)}`);
      return created.json.id;
    };

    const waitForSync = async (integrationId: string, o: { notIds?: string[]; timeoutMs?: number; pollMs?: number } = {}): Promise<SyncRun> => {
      const deadline = Date.now() + (o.timeoutMs ?? 3_600_000);
      for (;;) {
        let q = db.selectFrom('sync_runs').selectAll().where('integration_id', '=', integrationId).where('status', '<>', 'running');
        if (o.notIds?.length) q = q.where('id', 'not in', o.notIds);
        const run = await q.orderBy('started_at', 'desc').executeTakeFirst();
        if (run) return run;
        if (Date.now() > deadline) throw new Error(`no finished sync of ${integrationId} in time`);
        await sleep(o.pollMs ?? 100);
      }
    };

    return {
      databaseUrl,
      dbName,
      db,
      temporal,
      sandbox,
      apiUrl,
      internalUrl,
      apiPid: apiService.pid,
      env,
      tenantKey,
      api,
      startApi,
      startWorker,
      connect,
      waitForSync,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The sync-run ids of an integration so far (to wait for the next one). */
export async function syncRunIds(db: Kysely<Database>, integrationId: string): Promise<string[]> {
  const rows = await db.selectFrom('sync_runs').select('id').where('integration_id', '=', integrationId).execute();
  return rows.map((r) => r.id);
}

/** When each stream wrote its last checkpoint (about when it finished), in ms after `since`. */
export async function streamFinishMs(db: Kysely<Database>, integrationId: string, since: Date): Promise<Record<string, number>> {
  const rows = await db.selectFrom('sync_checkpoints').select(['stream', 'updated_at']).where('integration_id', '=', integrationId).execute();
  return Object.fromEntries(rows.map((r) => [r.stream, r.updated_at.getTime() - since.getTime()]));
}

export function runDurationMs(run: SyncRun): number {
  if (!run.finished_at) throw new Error('the run has not finished');
  return run.finished_at.getTime() - run.started_at.getTime();
}

export const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
