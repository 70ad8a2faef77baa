import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScheduleNotFoundError } from '@temporalio/client';
import { sql } from 'kysely';
import { syncScheduleId } from '../../src/temporal/syncSchedule';
import { connectWorkflowId } from '../../src/workflows/connect';
import { offboardWorkflowId } from '../../src/workflows/offboard';
import { decodedJson } from '../helpers/secretScan';
import { api, connectAndSync, createTenant, startSystem, waitFor, type System } from '../helpers/system';

/**
 * Offboarding a tenant over HTTP, end to end: one integration connected and synced, one awaiting consent, one
 * disconnected earlier without purge (its synced data still kept). Afterwards: no schedule, no connect flow, no
 * tokens, no synced data, every key refused, the tenant listed as offboarded; another tenant untouched.
 */
let system: System;

before(async () => {
  system = await startSystem();
});
after(() => system?.stop());

const count = async (table: string, ids: string[]) =>
  Number(
    (await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)} WHERE integration_id = ANY(${ids}::uuid[])`.execute(system.db)).rows[0]!.n,
  );

test('offboarding disconnects and purges every integration, revokes every key and marks the tenant offboarded', { timeout: 300_000 }, async () => {
  // Accounts whose read-scoped tokens may revoke themselves, so the grants are really revoked at Zendesk.
  const revocable = { oauth: { revokeNeedsWrite: false } };
  const connected = system.sandbox.createWorkspace({ subdomain: 'off-a', users: 500, ticketEvents: 3_000, seed: 81, consentMode: 'allow', ...revocable });
  system.sandbox.createWorkspace({ subdomain: 'off-b', users: 20, ticketEvents: 10, seed: 82, consentMode: 'allow', ...revocable });
  system.sandbox.createWorkspace({ subdomain: 'off-c', users: 200, ticketEvents: 500, seed: 83, consentMode: 'allow', ...revocable });
  system.sandbox.createWorkspace({ subdomain: 'off-other', users: 50, ticketEvents: 100, seed: 84, consentMode: 'allow' });
  const tenant = await createTenant(system, 'Tenant leaving');
  const other = await createTenant(system, 'Tenant staying');

  const { integrationId: connectedId } = await connectAndSync(system, tenant.apiKey, 'off-a');
  const pending = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: 'off-b' } });
  assert.equal(pending.status, 201, pending.text);
  const pendingId: string = pending.json.id;
  const { integrationId: oldId } = await connectAndSync(system, tenant.apiKey, 'off-c');
  assert.equal((await api(system, 'DELETE', `/v1/integrations/${oldId}`, { key: tenant.apiKey })).status, 200);
  const { integrationId: otherId } = await connectAndSync(system, other.apiKey, 'off-other');
  // A second key of the leaving tenant, in its grace period.
  const rotated = await api(system, 'POST', '/v1/tenant/keys/rotate', { key: tenant.apiKey, body: { graceSeconds: 3600 } });
  assert.equal(rotated.status, 201);
  const ids = [connectedId, pendingId, oldId];
  assert.ok(
    (await count('zendesk_users', [connectedId])) > 0 && (await count('zendesk_users', [oldId])) > 0,
    'synced data to purge, also of the integration disconnected earlier',
  );
  assert.equal((await system.temporal.workflow.getHandle(connectWorkflowId(pendingId)).describe()).status.name, 'RUNNING');

  // ---- The admin offboards the tenant.
  assert.equal((await api(system, 'POST', `/v1/tenants/${tenant.id}/offboard`, { key: tenant.apiKey })).status, 401, 'a tenant key is no admin key');
  const res = await api(system, 'POST', `/v1/tenants/${tenant.id}/offboard`, { key: system.adminKey });
  assert.ok(res.status === 200 || res.status === 202, `${res.status} ${res.text}`);
  assert.equal(res.json.workflowId, offboardWorkflowId(tenant.id));
  assert.equal(res.json.tenant.id, tenant.id);
  // Joining it is harmless (USE_EXISTING, or a rerun once done).
  const joined = await api(system, 'POST', `/v1/tenants/${tenant.id}/offboard`, { key: system.adminKey });
  assert.ok(joined.status === 200 || joined.status === 202, joined.text);
  await waitFor(
    'the tenant to be offboarded',
    async () => (await api(system, 'GET', `/v1/tenants/${tenant.id}`, { key: system.adminKey })).json.status === 'offboarded',
    180_000,
  );
  const result = await system.temporal.workflow.getHandle(offboardWorkflowId(tenant.id)).result();
  assert.equal(result.keysRevoked >= 0, true);

  // ---- Nothing is left.
  for (const id of ids) {
    await assert.rejects(system.temporal.schedule.getHandle(syncScheduleId(id)).describe(), ScheduleNotFoundError, `schedule of ${id}`);
  }
  assert.notEqual((await system.temporal.workflow.getHandle(connectWorkflowId(pendingId)).describe()).status.name, 'RUNNING', 'the pending consent ended');
  const rows = await system.db.selectFrom('integrations').select(['id', 'status']).where('tenant_id', '=', tenant.id).execute();
  assert.deepEqual(
    rows.map((r) => r.status),
    ['disconnected', 'disconnected', 'disconnected'],
  );
  for (const table of ['oauth_credentials', 'oauth_staged_credentials', 'zendesk_users', 'ticket_events', 'sync_checkpoints', 'zendesk_user_activity']) {
    assert.equal(await count(table, ids), 0, `${table} emptied`);
  }
  const secrets = await system.db.selectFrom('oauth_flows').select(['pkce_verifier_enc', 'code_enc']).where('integration_id', 'in', ids).execute();
  assert.ok(
    secrets.every((f) => f.pkce_verifier_enc === null && f.code_enc === null),
    'no verifier or code kept',
  );
  assert.ok(connected.stats().revocations >= 1, 'the grant was revoked at Zendesk');
  const running = await system.db.selectFrom('sync_runs').select('id').where('integration_id', 'in', ids).where('status', '=', 'running').execute();
  assert.equal(running.length, 0);

  // ---- Every key refused; the tenant listed as offboarded.
  for (const key of [tenant.apiKey, rotated.json.apiKey]) {
    for (const path of ['/v1/integrations', `/v1/integrations/${connectedId}`, `/v1/integrations/${connectedId}/users`, '/v1/tenant', '/v1/tenant/keys']) {
      assert.equal((await api(system, 'GET', path, { key })).status, 401, path);
    }
    assert.equal((await api(system, 'POST', '/v1/integrations/zendesk', { key, body: { workspace: 'off-new' } })).status, 401);
  }
  const keys = await api(system, 'GET', `/v1/tenants/${tenant.id}/keys`, { key: system.adminKey });
  assert.deepEqual(
    keys.json.keys.map((k: { status: string }) => k.status),
    ['revoked', 'revoked'],
  );
  const listed = await api(system, 'GET', '/v1/tenants?status=offboarded&limit=200', { key: system.adminKey });
  const entry = listed.json.tenants.find((t: { id: string }) => t.id === tenant.id);
  assert.equal(entry?.status, 'offboarded');
  assert.ok(entry?.offboardedAt);
  assert.equal(
    (await api(system, 'POST', `/v1/tenants/${tenant.id}/keys/rotate`, { key: system.adminKey, body: {} })).status,
    409,
    'no new key for an offboarded tenant',
  );

  // ---- Offboarding again finds nothing to do.
  const again = await api(system, 'POST', `/v1/tenants/${tenant.id}/offboard`, { key: system.adminKey });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json.integrations, 0);
  assert.equal(again.json.tenant.status, 'offboarded');

  // ---- The other tenant is untouched.
  assert.equal((await api(system, 'GET', `/v1/integrations/${otherId}`, { key: other.apiKey })).json.status, 'connected');
  assert.ok((await count('zendesk_users', [otherId])) > 0);
  assert.ok(await system.temporal.schedule.getHandle(syncScheduleId(otherId)).describe());

  // ---- Temporal carried ids and counts only.
  const history = decodedJson(await system.temporal.workflow.getHandle(offboardWorkflowId(tenant.id)).fetchHistory());
  for (const secret of [tenant.apiKey, rotated.json.apiKey, system.adminKey, 'Tenant leaving'])
    assert.ok(!history.includes(secret), 'a secret or the name in the history');
  assert.equal((await api(system, 'POST', '/v1/tenants/00000000-0000-4000-8000-000000000000/offboard', { key: system.adminKey })).status, 404);
});
