import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { api, connectAndSync, createTenant, startSystem, waitFor, type System } from '../helpers/system';

/** Errors reach the right place: a bookkeeping failure never hides why a chunk failed. */
let system: System;
before(async () => {
  system = await startSystem();
});
after(() => system?.stop());

test("a database error while booking a chunk's requests does not hide a lost grant: the sync still ends in needs_reauth", async () => {
  const ws = system.sandbox.createWorkspace({ subdomain: 'bookkeeping', users: 200, ticketEvents: 500, seed: 51, consentMode: 'allow' });
  const tenant = await createTenant(system);
  const { integrationId: id } = await connectAndSync(system, tenant.apiKey, 'bookkeeping');
  // Booking requests on the run (the chunk's `finally`) fails while the trigger exists; closing the run does not.
  await sql`CREATE FUNCTION refuse_request_counts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'simulated database failure'; END $$`.execute(
    system.db,
  );
  await sql`CREATE TRIGGER refuse_request_counts BEFORE UPDATE ON sync_runs FOR EACH ROW WHEN (NEW.requests IS DISTINCT FROM OLD.requests) EXECUTE FUNCTION refuse_request_counts()`.execute(
    system.db,
  );
  try {
    ws.revokeAllGrants();
    const res = await api(system, 'POST', `/v1/integrations/${id}/sync`, { key: tenant.apiKey });
    assert.equal(res.status, 202, res.text);
    const view = await waitFor(
      'needs_reauth',
      async () => {
        const v = (await api(system, 'GET', `/v1/integrations/${id}`, { key: tenant.apiKey })).json;
        return v.status === 'needs_reauth' ? v : undefined;
      },
      60_000,
    );
    assert.match(view.error, /[Rr]econnect/);
    assert.ok(
      system.logs.some((l) => l.includes('could not book') && l.includes('simulated database failure')),
      'the bookkeeping failure is logged, not lost',
    );
  } finally {
    await sql`DROP TRIGGER refuse_request_counts ON sync_runs`.execute(system.db);
    await sql`DROP FUNCTION refuse_request_counts()`.execute(system.db);
  }
});
