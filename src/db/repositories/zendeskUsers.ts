import { sql } from 'kysely';
import type { Db } from '../database';
import type { NewZendeskUser } from '../tables';

const UPDATABLE = [
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

/**
 * Upserts a page of users (one row per id: see uniqueUserRows). Zendesk may send a user again (or an older
 * copy of it); a strictly newer `updated_at` wins, so replaying a page is harmless and a copy already stored
 * (the seat-holder listing and the users export both return agents) is not written twice. A copy without `updated_at`
 * cannot be ordered and always overwrites, as does any copy over a stored one without it; every field is
 * written as read, so a field Zendesk stopped sending becomes NULL. Returns how many rows were written.
 */
export async function upsertZendeskUsers(db: Db, rows: NewZendeskUser[]): Promise<number> {
  if (rows.length === 0) return 0;
  let written = 0;
  for (let i = 0; i < rows.length; i += 1000) {
    const result = await db
      .insertInto('zendesk_users')
      .values(rows.slice(i, i + 1000))
      .onConflict((oc) =>
        oc
          .columns(['integration_id', 'id'])
          .doUpdateSet((eb) => ({
            ...Object.fromEntries(UPDATABLE.map((c) => [c, eb.ref(`excluded.${c}`)])),
            synced_at: sql<Date>`now()`,
          }))
          .where((eb) =>
            eb.or([
              eb('excluded.updated_at', 'is', null),
              eb('zendesk_users.updated_at', 'is', null),
              eb('zendesk_users.updated_at', '<', eb.ref('excluded.updated_at')),
            ]),
          ),
      )
      .executeTakeFirst();
    written += Number(result.numInsertedOrUpdatedRows ?? 0);
  }
  return written;
}
