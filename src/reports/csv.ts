import type { Writable } from 'node:stream';
import { neutralizeFormula } from './formulaGuard';
import { USER_FIELDS, type UserView } from './userView';

/**
 * CSV of the users report (RFC 4180): a header row with the JSON field names, one row per user in the
 * listing's order, CRLF line ends, UTF-8 without a byte-order mark.
 *
 * Values: strings as they are (quoted when they contain a comma, a double quote, CR or LF, or start or
 * end with whitespace; quotes doubled), numbers in decimal, booleans `true`/`false`, timestamps
 * ISO-8601 UTC, null as an empty field (an empty string is `""`, so the two stay distinct).
 *
 * Formula injection: by default a text value that a spreadsheet would evaluate (it starts with `=`, `+`,
 * `-`, `@`, tab or CR, or a full-width `＝＋－＠`) is written with a leading `'` (src/reports/formulaGuard.ts);
 * `raw` (the `?raw=true` of users.csv) writes Zendesk's values exactly, for programs that parse the file.
 */

export interface CsvOptions {
  /** Zendesk's values exactly, formula-like text included (not for opening in a spreadsheet). */
  raw?: boolean;
}

export function csvField(value: string | number | boolean | null | undefined, opts: CsvOptions = {}): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  const text = opts.raw ? value : neutralizeFormula(value);
  if (text === '' || /[",\r\n]/.test(text) || /^\s|\s$/.test(text)) return `"${text.replace(/"/g, '""')}"`;
  return text;
}

export function csvRow(values: ReadonlyArray<string | number | boolean | null | undefined>, opts: CsvOptions = {}): string {
  return `${values.map((v) => csvField(v, opts)).join(',')}\r\n`;
}

export const CSV_HEADER = csvRow(USER_FIELDS);

export function userCsvRow(user: UserView, opts: CsvOptions = {}): string {
  return csvRow(
    USER_FIELDS.map((f) => user[f]),
    opts,
  );
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
