import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { Integration } from '../db/tables';
import { readReclaimSettings, renewalBuffer } from './settings';

/**
 * `/utilization`'s `savings`, from the integration's seat price (null without one): unused paid seats × price
 * (potential), seats freed by reclamations and still free (realized), and before a renewal a recommended seat
 * count (paid seats in use, that is not reclaimable, plus a buffer) so Zendesk's own rule (it downgrades agents
 * alphabetically when the owner lowers seats without choosing) never has to pick. The agents to keep are
 * those in use: `renewal.keep` links to them in `/users` and `users.csv`, sorted by name as Zendesk would go.
 */
export interface Savings {
  seatPrice: { amount: number; currency: string; per: 'month' | 'year' };
  potential: { seats: number; amount: number };
  realized: { seats: number; amount: number };
  renewal: {
    date: string;
    purchasedSeats: number | null;
    seatsInUse: number;
    buffer: number;
    recommendedSeats: number;
    seatsToDrop: number | null;
    keep: { users: string; csv: string };
  } | null;
}

/**
 * The seats in use as a `/users` filter: paid, not suspended, active within the same `inactiveDays` as the
 * report — exactly `paidSeats.total − reclaimable.count` (a paid seat's `suspended` is always known: without it
 * the seat is `unknown`). Links, not a list: a 10,000-agent account's report stays small.
 */
function keepLinks(integrationId: string, inactiveDays: number): { users: string; csv: string } {
  const query = new URLSearchParams({ seat: 'paid', suspended: 'false', usage: 'active', inactiveDays: String(inactiveDays), sort: 'name' });
  const base = `/v1/integrations/${integrationId}`;
  return { users: `${base}/users?${query}`, csv: `${base}/users.csv?${query}` };
}

export async function savingsFor(
  db: Db,
  integration: Integration,
  figures: { paidSeats: { total: number }; reclaimable: { count: number } },
  inactiveDays: number,
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
          keep: keepLinks(integration.id, inactiveDays),
        }
      : null,
  };
}
