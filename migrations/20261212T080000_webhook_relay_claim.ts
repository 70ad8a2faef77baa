import { Kysely, sql } from 'kysely';

/**
 * The relay makes a delivery's first attempt itself (src/webhooks/relay.ts), so two relays (two workers)
 * must not both pick one delivery: `relay_claimed_until` is a short lease taken with the pick
 * (FOR UPDATE SKIP LOCKED), after which a crashed relay's deliveries are picked again.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE webhook_deliveries ADD COLUMN relay_claimed_until timestamptz`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE webhook_deliveries DROP COLUMN relay_claimed_until`.execute(db);
}
