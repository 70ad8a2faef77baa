import dc from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { execFileSync } from 'node:child_process';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/db/tables';
import type { Sandbox, SandboxWorkspace } from '../../src/sandbox';
import type { WorkspaceStats } from '../../src/sandbox/types';

/**
 * Shared tools of the chaos suite (test/chaos): seeded randomness, fault and request accounting, outbound
 * request and connection monitors, and PostgreSQL disruption.
 */

/** The seed of a chaos test: `CHAOS_SEED` when set, else the test's fixed default. Printed so a failure can be replayed. */
export function chaosSeed(name: string, fallback: number): number {
  const fromEnv = process.env.CHAOS_SEED;
  const seed = fromEnv !== undefined && /^\d+$/.test(fromEnv) ? Number(fromEnv) : fallback;
  console.log(`[chaos] ${name}: seed ${seed} (replay with CHAOS_SEED=${seed})`);
  return seed;
}

/** Runs per fast-check property (`CHAOS_RUNS` overrides). */
export const RUNS = process.env.CHAOS_RUNS && /^\d+$/.test(process.env.CHAOS_RUNS) ? Number(process.env.CHAOS_RUNS) : 300;

/** mulberry32: a small deterministic PRNG in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export const faultTotal = (stats: WorkspaceStats) => Object.values(stats.faults).reduce((a, b) => a + b, 0);
export const earlyTotal = (stats: WorkspaceStats) => Object.values(stats.earlyRequests).reduce((a, b) => a + b, 0);

/** Every request any workspace of the sandbox has received. */
export const sandboxRequests = (sandbox: Sandbox) => sandbox.workspaces().reduce((n, ws: SandboxWorkspace) => n + ws.stats().requests, 0);

/** One line per count, grepped from the test output into docs/reliability.md. */
export function reportCount(test: string, counts: Record<string, unknown>): void {
  console.log(`[chaos-count] ${test} ${JSON.stringify(counts)}`);
}

export interface OutboundMonitor {
  /** `http://host:port` of every HTTP request made through fetch in this process. */
  requests: Array<{ origin: string; path: string }>;
  /** Every TCP connection this process opened, once connected. */
  sockets: Array<{ host: string; port: number }>;
  stop(): void;
}

/**
 * Records every outbound HTTP request (undici's diagnostics channel, i.e. every fetch) and every TCP
 * connection (net's channel: pg, fetch) of this process, where the API and the in-process worker run.
 */
export function monitorOutbound(): OutboundMonitor {
  const requests: OutboundMonitor['requests'] = [];
  const sockets: OutboundMonitor['sockets'] = [];
  const onRequest = (message: unknown) => {
    const request = (message as { request: { origin: string | URL; path: string } }).request;
    requests.push({ origin: String(request.origin), path: request.path });
  };
  const onSocket = (message: unknown) => {
    const socket = (message as { socket: Socket }).socket;
    socket.once('connect', () => sockets.push({ host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 }));
  };
  dc.subscribe('undici:request:create', onRequest);
  dc.subscribe('net.client.socket', onSocket);
  return {
    requests,
    sockets,
    stop() {
      dc.unsubscribe('undici:request:create', onRequest);
      dc.unsubscribe('net.client.socket', onSocket);
    },
  };
}

export interface ExchangeLog {
  exchanges: Array<{ path: string; sentAt: number; answeredAt?: number; status?: number; retryAfterMs?: number }>;
  /**
   * Requests this process *created* while a 429 it had already *received* still forbade them (its
   * Retry-After, less 100 ms of clock tolerance, not yet passed). The sandbox's `earlyRequests` also counts
   * requests that were already on the wire when another request's 429 was sent, which no client can avoid.
   */
  sentAfterA429(): Array<{ path: string; sentAt: number; blockedUntil: number }>;
  /**
   * Requests that were already on the wire (sent before the 429 reached this process, not answered before it was sent):
   * the most the sandbox can count as early without the product having sent anything it knew was blocked.
   */
  inFlightAtA429(): number;
  stop(): void;
}

/** The rate-limit bucket of an API path: a 429 of `account` blocks every API request, an endpoint bucket's only its own. */
function bucketOf(path: string): 'account' | 'incremental' | 'usersCursor' {
  if (path.includes('/incremental/users/cursor')) return 'usersCursor';
  if (path.includes('/incremental/')) return 'incremental';
  return 'account';
}
const blocks = (blocking: string, blocked: string) => bucketOf(blocking) === 'account' || bucketOf(blocking) === bucketOf(blocked);

/** Every fetch of this process to URLs starting with `prefix`: when sent, when and how answered. */
export function watchExchanges(prefix: string): ExchangeLog {
  const exchanges: ExchangeLog['exchanges'] = [];
  const byRequest = new WeakMap<object, ExchangeLog['exchanges'][number]>();
  const onCreate = (message: unknown) => {
    const request = (message as { request: { origin: string | URL; path: string } }).request;
    const url = `${String(request.origin)}${request.path}`;
    if (!url.startsWith(prefix)) return;
    const exchange = { path: request.path, sentAt: Date.now() };
    exchanges.push(exchange);
    byRequest.set(request, exchange);
  };
  const onHeaders = (message: unknown) => {
    const { request, response } = message as { request: object; response: { statusCode: number; headers: Array<Buffer | string> } };
    const exchange = byRequest.get(request);
    if (!exchange) return;
    exchange.answeredAt = Date.now();
    exchange.status = response.statusCode;
    for (let i = 0; i + 1 < response.headers.length; i += 2) {
      if (String(response.headers[i]).toLowerCase() === 'retry-after') exchange.retryAfterMs = Number(String(response.headers[i + 1])) * 1000;
    }
  };
  dc.subscribe('undici:request:create', onCreate);
  dc.subscribe('undici:request:headers', onHeaders);
  return {
    exchanges,
    sentAfterA429() {
      const blocked = exchanges
        .filter((e) => e.path.includes('/api/v2/') && e.status === 429 && e.answeredAt !== undefined)
        .map((e) => ({ path: e.path, from: e.answeredAt!, until: e.answeredAt! + (e.retryAfterMs ?? 0) - 100 }));
      const out: Array<{ path: string; sentAt: number; blockedUntil: number }> = [];
      for (const e of exchanges.filter((x) => x.path.includes('/api/v2/'))) {
        const block = blocked.find((b) => blocks(b.path, e.path) && e.sentAt > b.from && e.sentAt < b.until);
        if (block) out.push({ path: e.path.split('?')[0]!, sentAt: e.sentAt, blockedUntil: block.until });
      }
      return out;
    },
    inFlightAtA429() {
      const api = exchanges.filter((x) => x.path.includes('/api/v2/'));
      let n = 0;
      for (const e of api.filter((x) => x.status === 429 && x.answeredAt !== undefined)) {
        // Sent before this process had the 429, still unanswered when the 429 was on its way (the sandbox
        // counts a request early from the moment it *sent* the 429, which lies between e.sentAt and e.answeredAt).
        n += api.filter((x) => x !== e && blocks(e.path, x.path) && x.sentAt <= e.answeredAt! && (x.answeredAt ?? Number.POSITIVE_INFINITY) >= e.sentAt).length;
      }
      return n;
    },
    stop() {
      dc.unsubscribe('undici:request:create', onCreate);
      dc.unsubscribe('undici:request:headers', onHeaders);
    },
  };
}

/** The name of the run's database (from DATABASE_URL). */
export function databaseName(): string {
  return new URL(process.env.DATABASE_URL!).pathname.slice(1);
}

/** Terminates every other backend of the test database (what the app sees when PostgreSQL crashes). Returns how many. */
export async function terminateBackends(admin: Kysely<any>, dbName = databaseName()): Promise<number> {
  const res = await sql<{ n: number }>`
    select count(*)::int as n from (
      select pg_terminate_backend(pid) from pg_stat_activity where datname = ${dbName} and pid <> pg_backend_pid()
    ) t`.execute(admin);
  return res.rows[0]!.n;
}

/** The machine's PostgreSQL cluster (`/etc/postgresql/<version>/main`), if this is such a machine and we may restart it. */
export function localCluster(): { version: string } | undefined {
  try {
    const url = new URL(process.env.DATABASE_URL!);
    if (!['127.0.0.1', 'localhost'].includes(url.hostname) || (url.port || '5432') !== '5432') return undefined;
    const versions = execFileSync('ls', ['/etc/postgresql'], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
    if (versions.length !== 1 || process.getuid?.() !== 0) return undefined;
    return { version: versions[0]! };
  } catch {
    return undefined;
  }
}

export function pgctl(version: string, action: 'stop' | 'start' | 'restart'): void {
  // `stop` uses the fast mode: active transactions are rolled back and clients disconnected at once.
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action], { stdio: 'pipe' });
}

/** Waits for `pg_isready` (up to 60 s). */
export async function waitPgReady(): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      execFileSync('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-q']);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error('PostgreSQL did not come back within 60 s');
      await sleep(250);
    }
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rows synced so far for an integration (users, ticket events). */
export async function syncedCounts(db: Kysely<Database>, integrationId: string): Promise<{ users: number; events: number }> {
  const res = await sql<{ users: number; events: number }>`
    select (select count(*)::int from zendesk_users where integration_id = ${integrationId}) as users,
           (select count(*)::int from ticket_events where integration_id = ${integrationId}) as events`.execute(db);
  return res.rows[0]!;
}
