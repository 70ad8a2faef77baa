import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { Integration } from '../db/tables';
import { readReclaimSettings, renewalBuffer } from './settings';

/**
 * `/utilization`'s `savings`, from the integration's seat price (null without one): unused paid seats × price
 * (potential), seats freed by reclamations and still free (realized), and before a renewal a recommended seat
 * count (paid seats in use, that is not reclaimable, plus a buffer) so Zendesk's own rule (it downgrades agents
 * alphabetically when the owner lowers seats without choosing) never has to pick.
 */
export interface Savings {
  seatPrice: { amount: number; currency: string; per: 'month' | 'year' };
  potential: { seats: number; amount: number };
  realized: { seats: number; amount: number };
  renewal: { date: string; purchasedSeats: number | null; seatsInUse: number; buffer: number; recommendedSeats: number; seatsToDrop: number | null } | null;
}

export async function savingsFor(
  db: Db,
  integration: Integration,
  figures: { paidSeats: { total: number }; reclaimable: { count: number } },
): Promise<Savings | null> {
  const settings = readReclaimSettings(integration.reclaim_settings);
  if (!settings.seatPrice) return null;
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM reclamation_users ru JOIN reclamations r ON r.id = ru.reclamation_id
     WHERE r.integration_id = ${integration.id}::uuid AND ru.state = 'downgraded' AND ru.reupgraded_at IS NULL`.execute(db);
  const freed = rows[0]?.n ?? 0;
  const price = settings.seatPrice.amount;
  const money = (seats: number) => Math.round(seats * price * 100) / 100;
  const inUse = Math.max(0, figures.paidSeats.total - figures.reclaimable.count);
  const buffer = renewalBuffer(inUse);
  const purchased = settings.purchasedSeats ?? null;
  return {
    seatPrice: settings.seatPrice,
    potential: { seats: figures.reclaimable.count, amount: money(figures.reclaimable.count) },
    realized: { seats: freed, amount: money(freed) },
    renewal: settings.renewalDate
      ? {
          date: settings.renewalDate,
          purchasedSeats: purchased,
          seatsInUse: inUse,
          buffer,
          recommendedSeats: inUse + buffer,
          seatsToDrop: purchased === null ? null : Math.max(0, purchased - (inUse + buffer)),
        }
      : null,
  };
}
