/**
 * The raw floor of scenario 1: the least work that moves the same data. A plain script fetches the same
 * pages with the product's own `ZendeskClient` (same HTTP, JSON parsing, zod validation, token and
 * rate-limit bookkeeping) and writes each page with one PostgreSQL `COPY … FROM STDIN` into a plain heap
 * table (no keys, indexes or triggers, no Temporal, no checkpoints, no run counters). Users and ticket
 * events run side by side, as in the product's sync.
 *
 * Run as its own process (like the worker, so that it does not share an event loop with the sandbox):
 *   node --import tsx bench/rawFloor.ts <integrationId> <subdomain> <eventsStartTime> <tableSuffix>
 * with the worker's environment; prints one line `RESULT {json}`.
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { nextTicketEventsStart, toTicketEventRow, toUserRow } from '../src/activities/syncMapping';
import { loadConfig, type Config } from '../src/config';
import { SecretBox } from '../src/crypto/secretBox';
import { createDb } from '../src/db/database';
import { ZendeskClient } from '../src/zendesk/client';
import { createProcessRateLimits } from '../src/zendesk/rateLimit/rateLimiter';

export interface FloorResult {
  ms: number;
  usersMs: number;
  eventsMs: number;
  users: number;
  events: number;
  usersPages: number;
  eventsPages: number;
  requests: number;
  /** CPU time of this process (the whole run, startup included). */
  cpuMs?: number;
}

const USER_COLUMNS = [
  'integration_id',
  'id',
  'name',
  'email',
  'created_at',
  'updated_at',
  'last_login_at',
  'role',
  'role_type',
  'report_csv',
  'chat_only',
  'moderator',
  'restricted_agent',
  'shared',
  'shared_agent',
  'suspended',
  'ticket_restriction',
  'two_factor_auth_enabled',
  'verified',
  'deleted',
] as const;
const EVENT_COLUMNS = ['integration_id', 'event_id', 'ticket_id', 'user_id', 'occurred_at'] as const;

/** One value in COPY's text format. */
function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (v instanceof Date) return v.toISOString();
  return String(v).replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

function copyText(rows: Record<string, unknown>[], columns: readonly string[]): string {
  let out = '';
  for (const row of rows) out += columns.map((c) => copyValue(row[c])).join('\t') + '\n';
  return out;
}

async function copyRows(pool: pg.Pool, table: string, columns: readonly string[], rows: Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  const client = await pool.connect();
  try {
    const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
    await pipeline(Readable.from([copyText(rows, columns)]), stream);
  } finally {
    client.release();
  }
}

export async function runRawFloor(opts: {
  config: Config;
  integrationId: string;
  subdomain: string;
  eventsStartTime: number;
  tableSuffix: string;
  beforeCleanup?: (result: FloorResult) => Promise<void>;
}): Promise<FloorResult> {
  const { config, integrationId, subdomain } = opts;
  const db = createDb(config.databaseUrl!, 4);
  const pool = new pg.Pool({ connectionString: config.databaseUrl!, max: 2 });
  const usersTable = `floor_users_${opts.tableSuffix}`;
  const eventsTable = `floor_events_${opts.tableSuffix}`;
  try {
    await pool.query(`CREATE TABLE ${usersTable} AS SELECT ${USER_COLUMNS.join(', ')} FROM zendesk_users WITH NO DATA`);
    await pool.query(`CREATE TABLE ${eventsTable} AS SELECT ${EVENT_COLUMNS.join(', ')} FROM ticket_events WITH NO DATA`);
    const client = new ZendeskClient({
      db,
      box: new SecretBox(config.encryptionKeys!),
      config,
      integrationId,
      subdomain,
      rateLimits: createProcessRateLimits(db),
    });
    const started = performance.now();
    const result: FloorResult = { ms: 0, usersMs: 0, eventsMs: 0, users: 0, events: 0, usersPages: 0, eventsPages: 0, requests: 0 };

    const users = async () => {
      let cursor: string | undefined;
      for (;;) {
        const page = await client.incrementalUsersPage(cursor ? { cursor } : { startTime: 0 });
        const rows = page.users.map((u) => toUserRow(integrationId, u));
        await copyRows(pool, usersTable, USER_COLUMNS, rows);
        result.users += rows.length;
        result.usersPages++;
        cursor = page.after_cursor ?? cursor;
        if (page.end_of_stream) break;
      }
      result.usersMs = performance.now() - started;
    };
    const events = async () => {
      let start = opts.eventsStartTime;
      for (;;) {
        const page = await client.ticketEventsPage(start);
        const rows = page.ticket_events.map((e) => toTicketEventRow(integrationId, e));
        await copyRows(pool, eventsTable, EVENT_COLUMNS, rows as unknown as Record<string, unknown>[]);
        result.events += rows.length;
        result.eventsPages++;
        start = nextTicketEventsStart(start, { end_time: page.end_time, end_of_stream: page.end_of_stream, count: page.ticket_events.length });
        if (page.end_of_stream) break;
      }
      result.eventsMs = performance.now() - started;
    };
    await Promise.all([users(), events()]);
    result.ms = performance.now() - started;
    result.requests = client.stats.requests;
    const cpu = process.cpuUsage();
    result.cpuMs = Math.round((cpu.user + cpu.system) / 1000);
    // Keep the PostgreSQL connections open until the caller has read their CPU time.
    await opts.beforeCleanup?.(result);
    return result;
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${usersTable}`).catch(() => undefined);
    await pool.query(`DROP TABLE IF EXISTS ${eventsTable}`).catch(() => undefined);
    await pool.end();
    await db.destroy();
  }
}

if (require.main === module) {
  const [integrationId, subdomain, eventsStartTime, tableSuffix] = process.argv.slice(2);
  if (!integrationId || !subdomain || !eventsStartTime || !tableSuffix)
    throw new Error('usage: rawFloor <integrationId> <subdomain> <eventsStartTime> <tableSuffix>');
  const config = loadConfig(process.env, 'worker');
  // Tells the parent it is done, then waits for a line on stdin (the parent reads CPU times meanwhile).
  const beforeCleanup = async (result: FloorResult) => {
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    await new Promise<void>((resolve) => {
      process.stdin.once('data', () => resolve());
      process.stdin.once('end', () => resolve());
    });
  };
  runRawFloor({ config, integrationId, subdomain, eventsStartTime: Number(eventsStartTime), tableSuffix, beforeCleanup }).then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`raw floor failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
