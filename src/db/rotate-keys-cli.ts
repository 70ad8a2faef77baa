import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../config';
import { SecretBox } from '../crypto/secretBox';
import { createDb } from './database';
import { rotateSecrets, secretKeyCounts, type KeyCount } from './secretRotation';

/**
 * `npm run rotate-keys`: re-encrypts every stored secret with the current key of ENCRYPTION_KEYS (its first);
 * resumable and idempotent (src/db/secretRotation.ts). `--status` only counts the stored values per key.
 * Exits 1 when a value is left that is not under the current key, naming where. Prints ids, labels and
 * counts, never a value.
 *
 *   npm run rotate-keys [-- --batch-size 500] [-- --status]
 *   node dist/src/db/rotate-keys-cli.js          (in the image)
 */
async function main(): Promise<number> {
  const { values } = parseArgs({ options: { status: { type: 'boolean', default: false }, 'batch-size': { type: 'string', default: '500' } } });
  const batchSize = Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new Error('--batch-size must be a whole number from 1 to 10000');
  const config = loadConfigOrExit('rotate-keys');
  const box = new SecretBox(config.encryptionKeys);
  const labels = new Map(box.keys.map((k) => [k.id, k.label]));
  const describe = (c: KeyCount) =>
    c.format === 'v2'
      ? `key ${c.keyId} (${labels.get(c.keyId!) ?? 'NOT in ENCRYPTION_KEYS'})`
      : c.format === 'v1'
        ? 'first format (v1, no key id: rewritten by this command)'
        : 'unknown format';
  const db = createDb(config.databaseUrl, 1);
  try {
    console.log(`Current key: ${box.currentKeyId} (${box.keys[0]?.label}); ring: ${box.keys.map((k) => `${k.label}=${k.id}`).join(', ')}`);
    if (!values.status) {
      const result = await rotateSecrets(db, box, {
        batchSize,
        onBatch: (p) =>
          p.rewritten + p.unreadable > 0 && console.log(`${p.table}: ${p.rewritten} values re-encrypted${p.unreadable ? `, ${p.unreadable} unreadable` : ''}`),
      });
      console.log(
        `Re-encrypted: ${Object.entries(result.rewritten)
          .map(([t, n]) => `${t} ${n}`)
          .join(', ')}.`,
      );
      for (const u of result.unreadable) console.log(`Unreadable (${u.reason}): ${u.table} row ${u.row}, field ${u.field}`);
    }
    const counts = await secretKeyCounts(db);
    for (const c of counts) console.log(`${c.table}: ${c.values} values under ${describe(c)}`);
    const left = counts.filter((c) => c.format !== 'v2' || c.keyId !== box.currentKeyId);
    if (left.length === 0) {
      console.log('Every stored secret is under the current key: keys other than the current one can be removed from ENCRYPTION_KEYS.');
      return 0;
    }
    console.log(
      `${left.reduce((s, c) => s + c.values, 0)} values are not under the current key.` +
        (values.status ? ' Run npm run rotate-keys.' : ' If processes still run with an older ENCRYPTION_KEYS, roll them out and run this again.'),
    );
    return 1;
  } finally {
    await db.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`Key rotation failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
