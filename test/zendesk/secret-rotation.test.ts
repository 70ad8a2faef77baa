import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { SecretBox } from '../../src/crypto/secretBox';
import { loadCredentials, saveCredentials, type TokenSet } from '../../src/db/repositories/credentials';
import { rotateSecrets, secretKeyCounts } from '../../src/db/secretRotation';
import { createTestIntegration, freshTestDatabase } from '../helpers/db';

/** rotate-keys at the database level: batches, resumable after a kill, never racing a token refresh. */
const K1 = randomBytes(32);
const K2 = randomBytes(32);
const oldBox = new SecretBox([{ label: 'k1', key: K1 }]);
const ring = new SecretBox([
  { label: 'k2', key: K2 },
  { label: 'k1', key: K1 },
]);
const newBox = new SecretBox([{ label: 'k2', key: K2 }]);
const tokens = (n: string): TokenSet => ({
  accessToken: `access-${n}`,
  refreshToken: `refresh-${n}`,
  accessExpiresAt: null,
  refreshExpiresAt: null,
  scope: 'read',
});

let database: Awaited<ReturnType<typeof freshTestDatabase>>;
before(async () => {
  database = await freshTestDatabase();
});
after(async () => database?.drop());

const clear = () => sql`TRUNCATE tenants CASCADE`.execute(database.db);

async function integrations(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { integrationId } = await createTestIntegration(database.db, `rot-${i}-${Math.random().toString(36).slice(2)}`);
    await saveCredentials(database.db, oldBox, integrationId, tokens(String(i)));
    ids.push(integrationId);
  }
  return ids;
}

test('killed midway, a rerun finishes the job; a run on a rotated database changes nothing', async () => {
  await clear();
  const ids = await integrations(7);
  let batches = 0;
  await assert.rejects(
    rotateSecrets(database.db, ring, {
      batchSize: 2,
      onBatch: () => {
        if (++batches === 2) throw new Error('killed');
      },
    }),
    /killed/,
  );
  // Two committed batches of two rows: four rows done, three to go; every row still decrypts with the ring.
  const partial = await secretKeyCounts(database.db);
  assert.equal(partial.find((c) => c.keyId === ring.currentKeyId)?.values, 8);
  assert.equal(partial.find((c) => c.keyId !== ring.currentKeyId)?.values, 6);
  for (const id of ids) assert.ok(await loadCredentials(database.db, ring, id));

  const rest = await rotateSecrets(database.db, ring, { batchSize: 2 });
  assert.equal(rest.rewritten.oauth_credentials, 6);
  assert.equal(rest.remaining, 0);
  const again = await rotateSecrets(database.db, ring, { batchSize: 2 });
  assert.equal(again.rewritten.oauth_credentials, 0, 'idempotent');
  const versions = await database.db.selectFrom('oauth_credentials').select(['version', 'updated_at']).execute();
  assert.ok(
    versions.every((v) => v.version === 1),
    'rotation is not a token rotation: version unchanged',
  );
  for (const [i, id] of ids.entries()) assert.deepEqual((await loadCredentials(database.db, newBox, id))?.refreshToken, `refresh-${i}`);
});

test('a refresh holding the row lock is waited for, and the tokens it saved are the ones re-encrypted', async () => {
  await clear();
  const [a, b, c] = await integrations(3);
  // A token refresh in flight on b (TokenProvider: the row locked, Zendesk asked, the new pair saved in the
  // same transaction), by a worker still on the old key ring.
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const refresh = database.db.transaction().execute(async (trx) => {
    await loadCredentials(trx, oldBox, b!, { forUpdate: true });
    locked();
    await released;
    await saveCredentials(trx, oldBox, b!, tokens('b-refreshed'));
  });
  await isLocked;
  let rotationDone = false;
  const rotation = rotateSecrets(database.db, ring, { batchSize: 1, maxPasses: 1 }).then((r) => {
    rotationDone = true;
    return r;
  });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(rotationDone, false, 'the rotation waits for the refresh');
  release();
  await refresh;
  const result = await rotation;
  assert.deepEqual(result.unreadable, []);
  assert.equal(result.remaining, 0);
  // The refreshed pair survived, now under k2: the rotation did not write back the pair it could have read before the lock.
  assert.equal((await loadCredentials(database.db, newBox, b!))?.refreshToken, 'refresh-b-refreshed');
  assert.equal((await loadCredentials(database.db, newBox, a!))?.refreshToken, `refresh-0`);
  assert.equal((await loadCredentials(database.db, newBox, c!))?.refreshToken, `refresh-2`);
});

test('a value no key of the ring opens is reported by row and field and left alone; the rest is rotated', async () => {
  await clear();
  const [a, b] = await integrations(2);
  const stranger = new SecretBox(randomBytes(32));
  await saveCredentials(database.db, stranger, b!, tokens('stranger'));
  const before = await database.db.selectFrom('oauth_credentials').selectAll().where('integration_id', '=', b!).executeTakeFirstOrThrow();
  const result = await rotateSecrets(database.db, ring);
  assert.deepEqual(result.unreadable.map((u) => [u.row, u.field, u.reason]).sort(), [
    [b, 'access_token', 'unknown_key'],
    [b, 'refresh_token', 'unknown_key'],
  ]);
  assert.equal(result.remaining, 2);
  assert.equal(result.rewritten.oauth_credentials, 2);
  assert.deepEqual(await database.db.selectFrom('oauth_credentials').selectAll().where('integration_id', '=', b!).executeTakeFirstOrThrow(), before);
  assert.equal((await loadCredentials(database.db, newBox, a!))?.accessToken, 'access-0');
});
