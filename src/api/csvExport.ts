import type { Response } from 'express';
import { sql, type Kysely } from 'kysely';
import type { Config } from '../config';
import type { Database } from '../db/tables';
import type { Logger } from '../logger';
import { CSV_HEADER, userCsvRow, writeChunk } from '../reports/csv';
import { listingSql, type ListingRequest } from '../reports/userQuery';
import { userView } from '../reports/userView';
import { TooManyRequests } from './limits/headers';
import { takeCsvSlot, type LocalCsvSlots } from './limits/csvSlots';
import { enterGate, extraUnits } from './limits/computation';
import { spendOrThrow } from './limits/middleware';
import type { TenantGate } from './limits/tenantGate';
import type { TenantLimits } from './limits/tenantLimits';

/** Rows per fetch from the server-side cursor (one round trip each), and per write to the socket. */
const CSV_CHUNK_ROWS = 1000;

/** How long a client refused for lack of a slot is asked to wait: exports take seconds. */
const SLOT_RETRY_AFTER_S = 5;

export interface CsvExportDeps {
  db: Kysely<Database>;
  config: Pick<Config, 'apiLimits' | 'apiDatabase'>;
  logger: Logger;
  limits: TenantLimits;
  csvSlots: LocalCsvSlots;
  /** The tenant's heavy operations in this process (an export is one, as a report computation is). */
  reportGate: TenantGate;
}

export interface CsvExport {
  tenantId: string;
  workspace: string;
  integrationId: string;
  request: ListingRequest;
  raw: boolean;
  /** What every row's `usage` rests on (usageBasis). */
  usageBasis: string;
}

function noSlot(concurrency: number): TooManyRequests {
  return new TooManyRequests(
    { 'Retry-After': String(SLOT_RETRY_AFTER_S) },
    `This tenant already runs ${concurrency} users.csv export${concurrency === 1 ? '' : 's'} at once (the most it may, across all its API keys); retry when one has finished.`,
    { budget: 'csv-concurrency', retryAfterSeconds: SLOT_RETRY_AFTER_S },
  );
}

/**
 * users.csv: one consistent snapshot, streamed.
 *
 * The export is one READ ONLY, REPEATABLE READ transaction: every row comes from the same snapshot, so a
 * sync committing pages meanwhile can neither move a user between two chunks (listed twice, or not at all)
 * nor mix before and after in one file. The rows come through one server-side cursor (pg-cursor's portal,
 * `CSV_CHUNK_ROWS` per fetch) over the listing's one query (src/reports/userQuery.ts listingSql), so the
 * database runs the query once, whatever the sort; paging instead re-ran it for every 1,000 rows. One chunk
 * is fetched ahead while the last is formatted and written, and no more until the socket has taken that one
 * (backpressure), so a slow reader holds two chunks in memory, not the export; a client that reads nothing for API_CSV_STATEMENT_TIMEOUT has its export
 * (and the transaction) cut by PostgreSQL's idle-in-transaction timeout. Each fetch is bounded by
 * API_CSV_STATEMENT_TIMEOUT (the first one of `sort=ticketInteractions` counts every user's window and sorts).
 *
 * Budgets first (src/api/limits): one unit of the tenant's `csv` budget per export started, one of
 * API_CSV_CONCURRENCY slots held for its whole length (across processes), and one of the tenant's
 * API_REPORT_CONCURRENCY slots of this process (an export is as heavy as a report computation, or more). Until the first chunk is read nothing is sent, so a
 * failure there is still a proper problem response; after that a failure cuts the connection, so a download
 * is complete or visibly truncated, never a short "complete" file.
 */
export async function exportUsersCsv(deps: CsvExportDeps, res: Response, job: CsvExport): Promise<void> {
  const { db, config, limits, csvSlots: slots } = deps;
  const concurrency = config.apiLimits.csvConcurrency;
  spendOrThrow(limits, res, job.tenantId, 'csv');
  const leave = slots.enter(job.tenantId);
  if (!leave) {
    limits.refund(job.tenantId, 'csv');
    throw noSlot(concurrency);
  }
  let streaming = false;
  let complete = false;
  /** Time spent waiting for PostgreSQL's rows: charged to the tenant's `reports` budget (units of 100 ms). */
  let fetchMs = 0;
  const fetchNext = async <T>(p: Promise<T>) => {
    const t0 = performance.now();
    try {
      return await p;
    } finally {
      fetchMs += performance.now() - t0;
    }
  };
  let release: (() => void) | undefined;
  try {
    try {
      release = await enterGate(deps.reportGate, job.tenantId);
    } catch (err) {
      limits.refund(job.tenantId, 'csv');
      throw err;
    }
    await db
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute(async (trx) => {
        const ms = String(config.apiDatabase.csvStatementTimeoutMs);
        await sql`SELECT set_config('statement_timeout', ${ms}, true), set_config('idle_in_transaction_session_timeout', ${ms}, true)`.execute(trx);
        if (!(await takeCsvSlot(trx, job.tenantId, concurrency))) {
          limits.refund(job.tenantId, 'csv');
          throw noSlot(concurrency);
        }
        const chunks = trx.getExecutor().stream(listingSql(job.request).compile(trx), CSV_CHUNK_ROWS);
        try {
          let next = await fetchNext(chunks.next());
          res.status(200).set({
            'Content-Type': 'text/csv; charset=utf-8; header=present',
            'Content-Disposition': `attachment; filename="zendesk-users-${job.workspace}.csv"`,
            // AS_OF_HEADER of routes/reports.ts (which imports this module).
            'Report-As-Of': job.request.window.asOf.toISOString(),
            'Cache-Control': 'no-store',
          });
          streaming = true;
          if (!(await writeChunk(res, CSV_HEADER))) return;
          const opts = { raw: job.raw };
          while (!next.done) {
            // The next fetch runs in PostgreSQL while this chunk is formatted and written: at most two
            // chunks are held, and the one after waits for the socket (backpressure).
            const following = chunks.next();
            following.catch(() => undefined); // awaited below; a failure while the client is gone is nobody's
            let text = '';
            for (const row of next.value.rows) text += userCsvRow(userView(row, job.usageBasis), opts);
            if (text && !(await writeChunk(res, text))) {
              await following.catch(() => undefined);
              return; // the client went away: stop reading
            }
            next = await fetchNext(following);
          }
          complete = true;
        } finally {
          await chunks.return?.(undefined);
        }
      });
  } catch (err) {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set once the first bytes went out
    if (!streaming) throw err;
    // Headers are gone: cut the response so the client sees a truncated download.
    deps.logger.error({ err, integrationId: job.integrationId }, 'users.csv failed while streaming');
    res.destroy(err as Error);
  } finally {
    release?.();
    leave();
    limits.charge(job.tenantId, 'reports', extraUnits(fetchMs));
  }
  // Ended only now, after the commit released the slot: a client that starts its next export as soon as
  // this one has arrived finds the slot free.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set inside the transaction's callback
  if (complete) res.end();
}
