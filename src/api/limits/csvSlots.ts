import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../../db/database';

/**
 * At most N users.csv exports of one tenant at once, across every API process (API_CSV_CONCURRENCY). An
 * export holds one PostgreSQL connection and one transaction from its first row to its last, so the slot
 * is a transaction-scoped advisory lock taken in that transaction: one of N per tenant, released by
 * PostgreSQL when the export ends, fails or its connection dies (a crashed API process leaks no slot).
 * This costs the export one statement; it is not per request of the API, and an export reads the whole
 * listing anyway. `LocalCsvSlots` refuses before that when this process alone already runs N, so a flood of
 * exports from one tenant is refused without taking pool connections from everyone else.
 */

/** The advisory-lock space of CSV slots: the first key of the two-int4 form, so they never meet other locks. */
export const LOCK_SPACE = 0x5a43_5356; // "ZCSV"

/** A tenant's slot `i` as the second int4 key (a hash of the tenant id, plus the slot). */
export function slotKey(tenantId: string, slot: number): number {
  const h = createHash('sha256').update(tenantId).digest().readInt32BE(0);
  // Slots of one tenant are consecutive keys; wrap within int4.
  return ((h + slot) << 0) | 0;
}

/** Takes a free slot of the tenant in the current transaction; false when all N are held. */
export async function takeCsvSlot(trx: Db, tenantId: string, concurrency: number): Promise<boolean> {
  // One statement that stops at the first slot it gets: the function scan yields the keys in order and
  // LIMIT stops pulling after the first row that passes. (No ORDER BY: a sort would read — and lock — all.)
  const keys = Array.from({ length: concurrency }, (_, i) => slotKey(tenantId, i));
  const { rows } = await sql<{ k: number }>`
    SELECT k FROM unnest(${keys}::int4[]) AS s(k)
     WHERE pg_try_advisory_xact_lock(${LOCK_SPACE}::int4, k)
     LIMIT 1`.execute(trx);
  return rows.length > 0;
}

/** This process's running exports per tenant: the cheap first check. */
export class LocalCsvSlots {
  private readonly running = new Map<string, number>();

  constructor(private readonly concurrency: number) {}

  /** A release function, or undefined when this process already runs the tenant's N exports. */
  enter(tenantId: string): (() => void) | undefined {
    const n = this.running.get(tenantId) ?? 0;
    if (n >= this.concurrency) return undefined;
    this.running.set(tenantId, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.running.get(tenantId) ?? 1) - 1;
      if (left <= 0) this.running.delete(tenantId);
      else this.running.set(tenantId, left);
    };
  }
}
