import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { SecretBox } from '../../src/crypto/secretBox';
import { loadCredentials, saveCredentials } from '../../src/db/repositories/credentials';
import { TEST_ENCRYPTION_KEY, createTestIntegration, testDb } from '../helpers/db';

const box = new SecretBox(TEST_ENCRYPTION_KEY);
const unique = (p: string) => `${p}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

test('swapping access_token_enc and refresh_token_enc of one row makes decryption fail', async () => {
  const db = testDb();
  const { integrationId } = await createTestIntegration(db, unique('swap'));
  await saveCredentials(db, box, integrationId, {
    accessToken: 'access-x',
    refreshToken: 'refresh-x',
    accessExpiresAt: null,
    refreshExpiresAt: null,
    scope: 'read',
  });
  await sql`UPDATE oauth_credentials SET access_token_enc = refresh_token_enc, refresh_token_enc = access_token_enc WHERE integration_id = ${integrationId}`.execute(
    db,
  );
  await assert.rejects(loadCredentials(db, box, integrationId));
});
