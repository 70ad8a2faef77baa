import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import path from 'node:path';
import { keyId } from '../../src/crypto/keyring';
import { SecretBox } from '../../src/crypto/secretBox';
import { loadCredentials } from '../../src/db/repositories/credentials';
import { loadStagedCredentials, stageIncomingCredentials } from '../../src/db/repositories/stagedCredentials';
import { rotateSecrets, secretKeyCounts } from '../../src/db/secretRotation';
import { createTestIntegration, freshTestDatabase } from '../helpers/db';
import { api, connectAndSync, createTenant, followConsent, startSystem, waitFor, waitForSync, type System } from '../helpers/system';
import { startWorkerProcess, type WorkerProcess } from '../helpers/workerProcess';

/**
 * Key rotation as an operator does it (README, "Secrets at rest"): tokens stored under k1; every process rolled
 * out with `ENCRYPTION_KEYS=k2,k1`; `rotate-keys` while syncs run and refresh one-second tokens; then k1
 * removed everywhere — every sync still works, every stored secret still decrypts, and none under k1 is left.
 */
const K1 = randomBytes(32);
const K2 = randomBytes(32);
const ring = (...keys: Array<[string, Buffer]>) => keys.map(([label, key]) => `${label}:${key.toString('base64')}`).join(',');
const ONLY_K1 = { ENCRYPTION_KEY: '', ENCRYPTION_KEYS: ring(['k1', K1]) };
const BOTH = { ENCRYPTION_KEY: '', ENCRYPTION_KEYS: ring(['k2', K2], ['k1', K1]) };
const ONLY_K2 = { ENCRYPTION_KEY: '', ENCRYPTION_KEYS: ring(['k2', K2]) };
const boxK1 = new SecretBox([{ label: 'k1', key: K1 }]);
const boxBoth = new SecretBox([
  { label: 'k2', key: K2 },
  { label: 'k1', key: K1 },
]);
const boxK2 = new SecretBox([{ label: 'k2', key: K2 }]);

let system: System;
let database: Awaited<ReturnType<typeof freshTestDatabase>>;
const workers: WorkerProcess[] = [];

// A database of its own: rotate-keys walks every table, and the run's database holds other files' rows under their keys.
before(async () => {
  database = await freshTestDatabase();
  system = await startSystem({ inProcessWorker: false, env: ONLY_K1, databaseUrl: database.url });
});
after(async () => {
  for (const w of workers) await w.kill();
  await system?.stop();
  await database?.drop();
});

/** What the first SecretBox wrote (v1: no key id, bound to the row only), for a row stored before this release. */
function legacySeal(master: Buffer, plaintext: string, aad: string): string {
  const enc = createHmac('sha256', master).update('zendesk-worker/encryption').digest();
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', enc, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

const rotateCli = (env: Record<string, string>, ...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../src/db/rotate-keys-cli.ts'), ...args], {
    env: { ...process.env, DATABASE_URL: system.env.DATABASE_URL, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });

async function rollWorker(env: Record<string, string>): Promise<void> {
  const next = await startWorkerProcess(system, { env });
  const previous = workers.splice(0);
  workers.push(next);
  for (const w of previous) await w.kill('SIGTERM');
}

test('rotate with tokens stored while syncs run; syncs keep working; the old key can then be removed', { timeout: 600_000 }, async (t) => {
  // One-second access tokens: every sync refreshes (and rotates the pair) many times, each refresh under the row lock.
  const spaces = ['rot-a', 'rot-b'].map((subdomain, i) =>
    system.sandbox.createWorkspace({
      subdomain,
      users: 400,
      ticketEvents: 3_000,
      seed: 40 + i,
      consentMode: 'allow',
      accessTokenTtlSeconds: 1,
      incrementalLimit: 2,
    }),
  );
  system.sandbox.createWorkspace({ subdomain: 'rot-pending', users: 30, ticketEvents: 50, seed: 49, consentMode: 'allow' });
  workers.push(await startWorkerProcess(system, { env: ONLY_K1 }));
  const tenant = await createTenant(system);

  // ---- Before: everything under k1.
  const ids: string[] = [];
  for (const ws of spaces) ids.push((await connectAndSync(system, tenant.apiKey, ws.subdomain)).integrationId);
  // A consent attempt left pending: its PKCE verifier waits in oauth_flows, under k1.
  const pending = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenant.apiKey, body: { workspace: 'rot-pending' } });
  assert.equal(pending.status, 201, pending.text);
  // Staged tokens of an attempt (kept apart until their user is checked), under k1.
  const pendingFlow = await system.db.selectFrom('oauth_flows').select('id').where('integration_id', '=', pending.json.id).executeTakeFirstOrThrow();
  const stagedTokens = { accessToken: 'staged-access', refreshToken: 'staged-refresh', accessExpiresAt: null, refreshExpiresAt: null, scope: 'read' };
  await stageIncomingCredentials(system.db, boxK1, pendingFlow.id, pending.json.id, stagedTokens);
  // A row from before this release: the first format (v1), both tokens bound to the row only.
  const legacy = await createTestIntegration(system.db, `rot-legacy-${Date.now()}`, 'needs_reauth');
  await system.db
    .insertInto('oauth_credentials')
    .values({
      integration_id: legacy.integrationId,
      access_token_enc: legacySeal(K1, 'legacy-access', legacy.integrationId),
      refresh_token_enc: legacySeal(K1, 'legacy-refresh', legacy.integrationId),
      scope: 'read',
    })
    .execute();
  const before = await secretKeyCounts(system.db);
  assert.ok(
    before.every((c) => c.format === 'v1' || c.keyId === keyId(K1)),
    JSON.stringify(before),
  );

  // ---- Roll out k2 (current) beside k1 to every process: the worker and the API.
  await rollWorker(BOTH);
  system.redeployApi(BOTH);

  // Syncs with much to do (8,000 new ticket events each, 2 pages a second), refreshing their tokens all along.
  for (const ws of spaces) ws.addTicketEvents(8_000);
  const runsBefore = await system.db.selectFrom('sync_runs').select('id').where('integration_id', 'in', ids).execute();
  for (const id of ids) assert.equal((await api(system, 'POST', `/v1/integrations/${id}/sync`, { key: tenant.apiKey })).status, 202);
  await waitFor(
    'both syncs running',
    async () =>
      (await system.db.selectFrom('sync_runs').select('id').where('integration_id', 'in', ids).where('status', '=', 'running').execute()).length === 2,
  );
  const refreshesAtStart = spaces.map((ws) => ws.issuedTokens().length);

  // ---- rotate-keys while they run: one row per transaction, over and over (each run idempotent; a kill between
  // two batches leaves only rows still to do).
  let rotations = 0;
  let rewritten = 0;
  const running = async () =>
    (await system.db.selectFrom('sync_runs').select('id').where('integration_id', 'in', ids).where('status', '=', 'running').execute()).length > 0;
  do {
    const result = await rotateSecrets(system.db, boxBoth, { batchSize: 1 });
    rotations++;
    rewritten += Object.values(result.rewritten).reduce((a, b) => a + b, 0);
    assert.deepEqual(result.unreadable, []);
    assert.equal(result.remaining, 0);
  } while ((await running()) && rotations < 50);
  t.diagnostic(`${rotations} rotations during the syncs, ${rewritten} values rewritten`);
  assert.ok(rewritten >= 5, `the stored secrets were rewritten (${rewritten})`);

  const runsDuring = await Promise.all(ids.map((id) => waitForSync(system, id, { notIds: runsBefore.map((r) => r.id), timeoutMs: 180_000 })));
  for (const run of runsDuring) assert.equal(run.status, 'succeeded', run.error ?? '');
  assert.ok(
    spaces.every((ws, i) => ws.issuedTokens().length > refreshesAtStart[i]!),
    'the tokens were refreshed while the rotation ran',
  );

  // Everything is under k2 now; a second run changes nothing.
  const after = await secretKeyCounts(system.db);
  assert.ok(after.length > 0 && after.every((c) => c.format === 'v2' && c.keyId === keyId(K2)), JSON.stringify(after));
  const idempotent = rotateCli(BOTH);
  assert.equal(idempotent.status, 0, idempotent.stdout + idempotent.stderr);
  assert.match(idempotent.stdout, /Re-encrypted: oauth_credentials 0, oauth_staged_credentials 0, oauth_flows 0, webhook_endpoints 0\./);
  assert.match(idempotent.stdout, /Every stored secret is under the current key/);

  // The pending consent, answered now: its state was signed under k1 (still listed), its verifier is under k2.
  const consent = await followConsent(pending.json.authorizeUrl);
  assert.equal(consent.status, 200, consent.html);
  const pendingRun = await waitForSync(system, pending.json.id);
  assert.equal(pendingRun.status, 'succeeded', pendingRun.error ?? '');

  // ---- k1 removed everywhere.
  const status = rotateCli(ONLY_K2, '--status');
  assert.equal(status.status, 0, status.stdout + status.stderr);
  assert.ok(!status.stdout.includes(K1.toString('base64')) && !status.stdout.includes(K2.toString('base64')), 'no key in the output');
  await rollWorker(ONLY_K2);
  system.redeployApi(ONLY_K2);
  const runsAfterRotation = await system.db.selectFrom('sync_runs').select('id').execute();
  for (const id of [...ids, pending.json.id]) assert.equal((await api(system, 'POST', `/v1/integrations/${id}/sync`, { key: tenant.apiKey })).status, 202);
  for (const id of [...ids, pending.json.id]) {
    const run = await waitForSync(system, id, { notIds: runsAfterRotation.map((r) => r.id), timeoutMs: 180_000 });
    assert.equal(run.status, 'succeeded', run.error ?? '');
  }
  // Every stored secret decrypts with k2 alone, the legacy row and the staged tokens included; none with k1 alone.
  for (const id of [...ids, pending.json.id, legacy.integrationId]) {
    assert.ok(await loadCredentials(system.db, boxK2, id), id);
    await assert.rejects(loadCredentials(system.db, boxK1, id));
  }
  assert.deepEqual(await loadCredentials(system.db, boxK2, legacy.integrationId).then((c) => [c?.accessToken, c?.refreshToken]), [
    'legacy-access',
    'legacy-refresh',
  ]);
  const staged = await system.db.selectFrom('oauth_staged_credentials').select('flow_id').where('flow_id', '=', pendingFlow.id).executeTakeFirst();
  if (staged) assert.equal((await loadStagedCredentials(system.db, boxK2, pendingFlow.id))?.refreshToken, 'staged-refresh');
  // And a new consent works end to end with k2 alone (state signed and verifier sealed under k2).
  const reconnect = await api(system, 'POST', `/v1/integrations/${ids[0]}/reconnect`, { key: tenant.apiKey });
  assert.equal(reconnect.status, 200, reconnect.text);
  assert.equal((await followConsent(reconnect.json.authorizeUrl)).status, 200);
});
