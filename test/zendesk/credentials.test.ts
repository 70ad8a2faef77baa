import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretBox } from '../../src/crypto/secretBox';
import { deleteCredentials, loadCredentials, saveCredentials } from '../../src/db/repositories/credentials';
import { TEST_ENCRYPTION_KEY, createTestIntegration, testDb } from '../helpers/db';

const box = new SecretBox(TEST_ENCRYPTION_KEY);
const unique = (p: string) => `${p}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

test('credentials are stored encrypted, bumped on every save, and deleted', async () => {
  const db = testDb();
  const { integrationId } = await createTestIntegration(db, unique('cred'));
  assert.equal(await loadCredentials(db, box, integrationId), undefined);

  const expires = new Date(Date.now() + 1_800_000);
  const v1 = await saveCredentials(db, box, integrationId, {
    accessToken: 'access-secret-1',
    refreshToken: 'refresh-secret-1',
    accessExpiresAt: expires,
    refreshExpiresAt: null,
    scope: 'read',
  });
  assert.equal(v1, 1);
  const row = await db.selectFrom('oauth_credentials').selectAll().where('integration_id', '=', integrationId).executeTakeFirstOrThrow();
  assert.ok(!JSON.stringify(row).includes('secret-1'), 'no plaintext token in the row');

  const loaded = await loadCredentials(db, box, integrationId);
  assert.ok(loaded && Math.abs(loaded.updatedAt.getTime() - Date.now()) < 60_000);
  assert.deepEqual(
    { ...loaded, updatedAt: undefined },
    {
      accessToken: 'access-secret-1',
      refreshToken: 'refresh-secret-1',
      accessExpiresAt: expires,
      refreshExpiresAt: null,
      scope: 'read',
      version: 1,
      updatedAt: undefined,
    },
  );

  const v2 = await saveCredentials(db, box, integrationId, {
    accessToken: 'a2',
    refreshToken: null,
    accessExpiresAt: null,
    refreshExpiresAt: null,
    scope: 'read',
  });
  assert.equal(v2, 2);
  const reloaded = await loadCredentials(db, box, integrationId);
  assert.equal(reloaded?.accessToken, 'a2');
  assert.equal(reloaded?.refreshToken, null);
  assert.equal(reloaded?.version, 2);

  assert.equal(await deleteCredentials(db, integrationId), true);
  assert.equal(await deleteCredentials(db, integrationId), false);
  assert.equal(await loadCredentials(db, box, integrationId), undefined);
});

test('a row copied to another integration does not decrypt', async () => {
  const db = testDb();
  const a = await createTestIntegration(db, unique('copy-a'));
  const b = await createTestIntegration(db, unique('copy-b'));
  await saveCredentials(db, box, a.integrationId, {
    accessToken: 'tok-a',
    refreshToken: 'ref-a',
    accessExpiresAt: null,
    refreshExpiresAt: null,
    scope: 'read',
  });
  const row = await db.selectFrom('oauth_credentials').selectAll().where('integration_id', '=', a.integrationId).executeTakeFirstOrThrow();
  await db
    .insertInto('oauth_credentials')
    .values({ ...row, integration_id: b.integrationId })
    .execute();
  await assert.rejects(loadCredentials(db, box, b.integrationId), (err: Error) => !err.message.includes('tok-a'));
  assert.equal((await loadCredentials(db, box, a.integrationId))?.accessToken, 'tok-a');
});
