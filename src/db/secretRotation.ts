import { sql, type Kysely, type RawBuilder } from 'kysely';
import { SecretUnreadableError, type SecretBox } from '../crypto/secretBox';
import type { SecretTable } from '../crypto/secretBinding';
import { bindingOf, SECRET_COLUMNS } from './secretColumns';
import type { Database } from './tables';

/**
 * `npm run rotate-keys`: re-encrypts every stored secret that is not yet in the current format under the
 * current key (SECRET_COLUMNS: tokens, staged tokens, PKCE verifiers, authorization codes).
 *
 * - **Batches**, each its own short transaction, walking each table by primary key. What is done is visible
 *   in the data itself (a rewritten value starts with the current `v2.<key id>.`), so the command keeps no
 *   state of its own: killed at any point, a rerun finds only what is left; on a fully rotated database it
 *   changes nothing (idempotent).
 * - **No race with a token refresh**: a batch locks its rows (`SELECT … FOR UPDATE`, the same row lock a
 *   refresh takes on `oauth_credentials`) and re-encrypts the value it read under that lock. A refresh that
 *   saved new tokens first is seen (PostgreSQL re-reads a row it waited for, and a row already under the
 *   current key no longer matches); one that comes later waits a few milliseconds for the batch to commit.
 *   Only the ciphertext changes: no `version`, no `updated_at` (token expiry is judged from it).
 * - A value that cannot be read (a key missing from the ring, a damaged row) is left as it is and reported
 *   by table, row and field; the rest goes on.
 */

export interface RotationOptions {
  /** Rows per transaction. */
  batchSize?: number;
  /** How long a batch waits for a row lock (a refresh holds one for at most one Zendesk request). */
  lockTimeoutMs?: number;
  /** Called after each batch (progress for the command's output). */
  onBatch?: (progress: { table: SecretTable; rewritten: number; unreadable: number }) => void;
  /** Pass count limit: a pass that rewrites nothing ends the run earlier. */
  maxPasses?: number;
}

interface UnreadableSecret {
  table: SecretTable;
  row: string;
  field: string;
  reason: SecretUnreadableError['reason'];
}

export interface RotationResult {
  /** Values rewritten under the current key, per table. */
  rewritten: Record<SecretTable, number>;
  unreadable: UnreadableSecret[];
  /** Values still not under the current key afterwards (the unreadable ones, or written meanwhile by a process with an older key ring). */
  remaining: number;
}

const TABLES = Object.keys(SECRET_COLUMNS) as SecretTable[];

/** SQL: the column holds a value that is not in the current format under the current key. */
function stale(column: string, prefix: string): RawBuilder<boolean> {
  return sql<boolean>`(${sql.ref(column)} IS NOT NULL AND NOT starts_with(${sql.ref(column)}, ${prefix}))`;
}

function anyStale(table: SecretTable, prefix: string): RawBuilder<boolean> {
  return sql<boolean>`(${sql.join(
    SECRET_COLUMNS[table].columns.map((c) => stale(c, prefix)),
    sql` OR `,
  )})`;
}

/** One pass over one table: every stale row, a batch per transaction. */
async function rotateTable(
  db: Kysely<Database>,
  box: SecretBox,
  table: SecretTable,
  options: Required<Omit<RotationOptions, 'onBatch'>> & Pick<RotationOptions, 'onBatch'>,
  unreadable: UnreadableSecret[],
): Promise<number> {
  const { key, columns } = SECRET_COLUMNS[table];
  const prefix = box.currentPrefix;
  let after: string | undefined;
  let rewritten = 0;
  const seen = new Set(unreadable.map((u) => `${u.table}|${u.row}|${u.field}`));
  for (;;) {
    const batch = await db.transaction().execute(async (trx) => {
      await sql`SET LOCAL lock_timeout = ${sql.lit(`${options.lockTimeoutMs}ms`)}`.execute(trx);
      // The batch's rows first, then their locks: with `LIMIT … FOR UPDATE` a row that a refresh changed while
      // we waited for it drops out of the result, and a short batch would look like the end of the table.
      const candidates = (
        await sql<{ row_key: string }>`
          SELECT ${sql.ref(key)}::text AS row_key FROM ${sql.table(table)}
           WHERE ${anyStale(table, prefix)} ${after === undefined ? sql`` : sql`AND ${sql.ref(key)} > ${after}`}
           ORDER BY ${sql.ref(key)}
           LIMIT ${options.batchSize}`.execute(trx)
      ).rows.map((r) => r.row_key);
      if (candidates.length === 0) return { candidates, changed: 0, failed: 0 };
      // Locked and read again: the values re-encrypted are the ones read under the lock.
      const rows = (
        await sql<Record<string, string | null>>`
          SELECT ${sql.ref(key)}::text AS row_key, ${sql.join(columns.map((c) => sql.ref(c)))}
            FROM ${sql.table(table)}
           WHERE ${sql.ref(key)} = ANY(${candidates}::uuid[])
           ORDER BY ${sql.ref(key)}
             FOR UPDATE`.execute(trx)
      ).rows;
      let changed = 0;
      let failed = 0;
      for (const row of rows) {
        const rowKey = row.row_key!;
        const updates: Record<string, string> = {};
        for (const column of columns) {
          const value = row[column];
          if (value === null || value === undefined || box.isCurrent(value)) continue;
          const binding = bindingOf(table, rowKey, column);
          try {
            // The value read under the row lock, re-sealed: never a value read before the lock.
            updates[column] = box.encrypt(box.decrypt(value, binding), binding);
          } catch (err) {
            if (!(err instanceof SecretUnreadableError)) throw err;
            failed++;
            const id = `${table}|${rowKey}|${binding.field}`;
            if (!seen.has(id)) unreadable.push({ table, row: rowKey, field: binding.field, reason: err.reason });
            seen.add(id);
          }
        }
        const set = Object.entries(updates);
        if (set.length === 0) continue;
        await sql`UPDATE ${sql.table(table)} SET ${sql.join(set.map(([c, v]) => sql`${sql.ref(c)} = ${v}`))} WHERE ${sql.ref(key)} = ${rowKey}`.execute(trx);
        changed += set.length;
      }
      return { candidates, changed, failed };
    });
    rewritten += batch.changed;
    if (batch.candidates.length > 0) options.onBatch?.({ table, rewritten: batch.changed, unreadable: batch.failed });
    if (batch.candidates.length < options.batchSize) return rewritten;
    after = batch.candidates.at(-1)!;
  }
}

/** Re-encrypts every stored secret with the current key; see the module comment. */
export async function rotateSecrets(db: Kysely<Database>, box: SecretBox, options: RotationOptions = {}): Promise<RotationResult> {
  const settings = {
    batchSize: options.batchSize ?? 500,
    lockTimeoutMs: options.lockTimeoutMs ?? 60_000,
    maxPasses: options.maxPasses ?? 3,
    onBatch: options.onBatch,
  };
  const rewritten = Object.fromEntries(TABLES.map((t) => [t, 0])) as Record<SecretTable, number>;
  const unreadable: UnreadableSecret[] = [];
  // Another pass picks up what processes still on the previous key ring wrote during this one.
  for (let pass = 0; pass < settings.maxPasses; pass++) {
    let thisPass = 0;
    for (const table of TABLES) {
      const n = await rotateTable(db, box, table, settings, unreadable);
      rewritten[table] += n;
      thisPass += n;
    }
    if (thisPass === 0) break;
  }
  const remaining = (await secretKeyCounts(db)).filter((c) => c.keyId !== box.currentKeyId || c.format !== 'v2').reduce((sum, c) => sum + c.values, 0);
  return { rewritten, unreadable, remaining };
}

export interface KeyCount {
  table: SecretTable;
  /** `v2`, the first format `v1` (no key id), or `unknown`. */
  format: 'v1' | 'v2' | 'unknown';
  /** The key id a v2 value names; null for v1 and unknown values. */
  keyId: string | null;
  values: number;
}

/** How many stored values each key (and format) holds, per table: what `rotate-keys --status` prints. */
export async function secretKeyCounts(db: Kysely<Database>): Promise<KeyCount[]> {
  const counts: KeyCount[] = [];
  for (const table of TABLES) {
    for (const column of SECRET_COLUMNS[table].columns) {
      const rows = (
        await sql<{ format: string; key_id: string | null; n: number }>`
          SELECT split_part(${sql.ref(column)}, '.', 1) AS format,
                 CASE WHEN split_part(${sql.ref(column)}, '.', 1) = 'v2' THEN split_part(${sql.ref(column)}, '.', 2) END AS key_id,
                 count(*)::int AS n
            FROM ${sql.table(table)}
           WHERE ${sql.ref(column)} IS NOT NULL
           GROUP BY 1, 2`.execute(db)
      ).rows;
      for (const r of rows) {
        const format = r.format === 'v1' || r.format === 'v2' ? r.format : 'unknown';
        const existing = counts.find((c) => c.table === table && c.format === format && c.keyId === (format === 'v2' ? r.key_id : null));
        if (existing) existing.values += r.n;
        else counts.push({ table, format, keyId: format === 'v2' ? r.key_id : null, values: r.n });
      }
    }
  }
  return counts;
}
