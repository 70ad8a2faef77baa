import { sql } from 'kysely';
import { log, type Harness } from './harness';

/** A tenant with one connected integration whose users and ticket events were written straight into PostgreSQL. */
export interface WrittenWorkspace {
  tenantId: string;
  apiKey: string;
  integrationId: string;
  workspace: string;
  users: number;
  events: number;
}

const made = new Map<string, WrittenWorkspace>();

/**
 * The users and events of test/e2e/reports-scale.test.ts (names in ten scripts, roles 64 % end users, 29 %
 * agents, 7 % admins, a tenth without a last login, events spread over 90 days), written with two
 * INSERT … SELECT statements: a 100,000-user workspace in seconds rather than a sync's half minute, for the
 * scenarios that read reports rather than sync. Each `workspace` name is made once per run, for a new tenant.
 */
export async function writtenWorkspace(h: Harness, workspace: string, users: number, events: number): Promise<WrittenWorkspace> {
  const known = made.get(workspace);
  if (known) return known;
  const started = performance.now();
  const tenant = await h.api('POST', '/v1/tenants', { name: `Bench tenant ${workspace}` }, h.env.ADMIN_API_KEY);
  if (tenant.status !== 201) throw new Error(`tenant creation failed: ${tenant.status} ${tenant.text}`);
  const { id: integrationId } = await h.db
    .insertInto('integrations')
    .values({ tenant_id: tenant.json.id, workspace, status: 'connected', error: null, zendesk_user_id: null, connected_at: new Date() })
    .returning('id')
    .executeTakeFirstOrThrow();
  await sql`
    INSERT INTO zendesk_users (integration_id, id, name, email, created_at, updated_at, last_login_at, role, role_type, report_csv, chat_only,
                               moderator, restricted_agent, shared, shared_agent, suspended, ticket_restriction, two_factor_auth_enabled, verified, deleted)
    SELECT ${integrationId}::uuid, 360000000000 + g * 7919,
           (ARRAY['Ada','Ben','Chloé','Dmitri','Eve','Fatima','Grace','Hiro','Анна','太郎'])[1 + g % 10] || ' ' ||
           (ARRAY['Smith','O''Brien','García','Müller','Kim','Patel','Nguyễn','Johnson'])[1 + (g / 10) % 8] || ' ' || g,
           'user.' || g || '@example.com',
           now() - (${users} - g) * interval '30 minutes', now(),
           CASE WHEN g % 11 = 0 THEN NULL ELSE now() - ((g * 7) % 400) * interval '1 day' - (g % 1440) * interval '1 minute' END,
           r.role,
           CASE WHEN r.role = 'agent' THEN (ARRAY[NULL, 0, 1, 2, 3])[1 + g % 5] WHEN r.role = 'admin' THEN 4 END,
           g % 4 = 0, false, g % 5 = 0, r.role = 'agent' AND g % 3 = 0, g % 50 = 0, false, g % 12 = 0,
           CASE WHEN r.role = 'end-user' THEN 'requested' END, CASE WHEN g % 10 = 0 THEN NULL ELSE g % 2 = 0 END, g % 4 <> 0, g % 20 = 0
      FROM generate_series(1, ${users}) g,
           LATERAL (SELECT CASE WHEN g % 100 < 64 THEN 'end-user' WHEN g % 100 < 93 THEN 'agent' ELSE 'admin' END AS role) r`.execute(h.db);
  await sql`
    INSERT INTO ticket_events (integration_id, event_id, ticket_id, user_id, occurred_at)
    SELECT ${integrationId}::uuid, 300000000000 + g * 10, g / 6,
           360000000000 + (((g::bigint * 2654435761) % ${users}) + 1) * 7919,
           now() - ((g::bigint * 40503) % (90 * 86400)) * interval '1 second'
      FROM generate_series(1, ${events}) g`.execute(h.db);
  for (const table of ['zendesk_users', 'ticket_events', 'zendesk_user_activity']) await sql.raw(`ANALYZE ${table}`).execute(h.db);
  const ws: WrittenWorkspace = { tenantId: tenant.json.id, apiKey: tenant.json.apiKey, integrationId, workspace, users, events };
  made.set(workspace, ws);
  log(`wrote ${workspace}: ${users.toLocaleString('en-US')} users, ${events.toLocaleString('en-US')} events in ${Math.round(performance.now() - started)} ms`);
  return ws;
}
