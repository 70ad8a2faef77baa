import type { Writable } from 'node:stream';
import type { Db } from '../db/database';
import { findUserPage, type PageRequest } from './userQuery';
import { USER_FIELDS, userView, type UserView } from './userView';

/**
 * CSV of the users report (RFC 4180): a header row with the JSON field names, one row per user in the
 * listing's order, CRLF line ends, UTF-8 without a byte-order mark.
 *
 * Values: strings as they are (quoted when they contain a comma, a double quote, CR or LF, or start or
 * end with whitespace; quotes doubled), numbers in decimal, booleans `true`/`false`, timestamps
 * ISO-8601 UTC, null as an empty field (an empty string is `""`, so the two stay distinct). Values are
 * never rewritten: a name starting with `=` stays `=…` (the export is data for programs; a spreadsheet
 * should import it as text).
 */

export function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  if (value === '' || /[",\r\n]/.test(value) || /^\s|\s$/.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

export function csvRow(values: ReadonlyArray<string | number | boolean | null | undefined>): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

export const CSV_HEADER = csvRow(USER_FIELDS);

export function userCsvRow(user: UserView): string {
  return csvRow(USER_FIELDS.map((f) => user[f]));
}

/** Writes one chunk, waiting for the socket to drain; false when the client has gone away. */
export async function writeChunk(out: Writable, chunk: string): Promise<boolean> {
  if (out.destroyed || out.writableEnded) return false;
  if (out.write(chunk)) return true;
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      out.off('error', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    out.on('drain', onDrain);
    out.on('close', onClose);
    out.on('error', onClose);
  });
}

export const CSV_PAGE_SIZE = 1000;

/**
 * Streams every row of a listing as CSV, one keyset page at a time (memory stays at one page whatever the
 * workspace's size), all pages judged at the same `asOf`. `first` is the already fetched first page (so the
 * caller can turn its errors into a proper problem response before any byte is sent). Returns false when
 * the client went away before the end.
 */
export async function streamUsersCsv(
  db: Db,
  request: Omit<PageRequest, 'after' | 'limit'>,
  out: Writable,
  first: Awaited<ReturnType<typeof findUserPage>>,
): Promise<boolean> {
  let page = first;
  if (!(await writeChunk(out, CSV_HEADER))) return false;
  for (;;) {
    if (page.rows.length > 0 && !(await writeChunk(out, page.rows.map((r) => userCsvRow(userView(r))).join('')))) return false;
    if (!page.next) return true;
    page = await findUserPage(db, { ...request, limit: CSV_PAGE_SIZE, after: page.next });
  }
}
