import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { KEY_BYTES, keyId, type EncryptionKey } from './keyring';
import { associatedData, legacyAssociatedData, type SecretBinding } from './secretBinding';

/**
 * AES-256-GCM for secrets at rest (tokens, PKCE verifiers, authorization codes), under a key ring.
 *
 * Stored form (v2): `v2.<key id>.<iv>.<ciphertext>.<tag>`, base64url parts: a 12-byte IV, a 16-byte tag,
 * the id of the key that sealed it (src/crypto/keyring.ts), and as associated data the value's table, row
 * and field (src/crypto/secretBinding.ts). New values are sealed with the current key (the ring's first);
 * any key of the ring opens them. The first format, `v1.<iv>.<ciphertext>.<tag>` (no key id, bound to the
 * row only), still opens, with whichever key of the ring sealed it, until `npm run rotate-keys` rewrites it.
 *
 * Each master key yields two subkeys (HMAC-SHA256 with distinct labels), so the same key never serves both
 * encryption and OAuth state signing.
 */

const IV_BYTES = 12;
/** GCM's full tag. Node accepts shorter ones (down to 4 bytes) unless told the length: always tell it. */
const TAG_BYTES = 16;

interface RingKey {
  id: string;
  label: string;
  enc: Buffer;
  mac: Buffer;
}

/** Why a stored secret cannot be read. The message names no value (only key ids and the binding's table and field). */
export class SecretUnreadableError extends Error {
  constructor(
    message: string,
    readonly reason: 'format' | 'unknown_key' | 'authentication',
  ) {
    super(message);
    this.name = 'SecretUnreadableError';
  }
}

const B64URL = /^[A-Za-z0-9_-]*$/;

function part(text: string | undefined, bytes?: number): Buffer | undefined {
  if (text === undefined || !B64URL.test(text)) return undefined;
  const buf = Buffer.from(text, 'base64url');
  if (bytes !== undefined && buf.length !== bytes) return undefined;
  return buf;
}

export class SecretBox {
  private readonly ring: RingKey[];

  /** One key (the single ENCRYPTION_KEY), or the ring, current first. */
  constructor(keys: Buffer | readonly EncryptionKey[]) {
    const list = Buffer.isBuffer(keys) ? [{ label: 'default', key: keys }] : keys;
    if (list.length === 0) throw new Error('At least one encryption key is needed');
    this.ring = list.map(({ label, key }) => {
      if (key.length !== KEY_BYTES) throw new Error(`Encryption key ${label} must be ${KEY_BYTES} bytes`);
      return {
        id: keyId(key),
        label,
        enc: createHmac('sha256', key).update('zendesk-worker/encryption').digest(),
        mac: createHmac('sha256', key).update('zendesk-worker/signing').digest(),
      };
    });
  }

  /** The key new values are sealed under: the first of the ring (the constructor refuses an empty ring). */
  private get current() {
    return this.ring[0]!;
  }

  /** The id new values are sealed under. */
  get currentKeyId(): string {
    return this.current.id;
  }

  /** Every key of the ring, current first (ids and labels only). */
  get keys(): Array<{ id: string; label: string }> {
    return this.ring.map(({ id, label }) => ({ id, label }));
  }

  /** The beginning every value sealed in the current format under the current key has (`v2.<id>.`). */
  get currentPrefix(): string {
    return `v2.${this.currentKeyId}.`;
  }

  /** Whether a stored value is already in the current format under the current key (rotation leaves it). */
  isCurrent(sealed: string): boolean {
    return sealed.startsWith(this.currentPrefix);
  }

  encrypt(plaintext: string, binding: SecretBinding): string {
    const key = this.current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key.enc, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(associatedData(binding)));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v2', key.id, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** Throws SecretUnreadableError when the value was tampered with, bound to other data, or sealed under a key not in the ring. */
  decrypt(sealed: string, binding: SecretBinding): string {
    const parts = sealed.split('.');
    const where = `${binding.table}.${binding.field}`;
    if (parts[0] === 'v2' && parts.length === 5) {
      const key = this.ring.find((k) => k.id === parts[1]);
      if (!key) {
        throw new SecretUnreadableError(
          `The stored ${where} was encrypted under key ${parts[1]}, which is not in ENCRYPTION_KEYS (keys: ${this.ring.map((k) => k.id).join(', ')})`,
          'unknown_key',
        );
      }
      const [, , iv, body, tag] = parts as [string, string, string, string, string];
      const opened = this.open(key, iv, body, tag, associatedData(binding));
      if (opened === undefined)
        throw new SecretUnreadableError(`The stored ${where} does not authenticate: it was altered, or belongs to another row or field`, 'authentication');
      return opened;
    }
    if (parts[0] === 'v1' && parts.length === 4) {
      // No key id in the first format: whichever key of the ring sealed it authenticates (GCM fails fast for the others).
      const [, iv, body, tag] = parts as [string, string, string, string];
      for (const key of this.ring) {
        const opened = this.open(key, iv, body, tag, legacyAssociatedData(binding));
        if (opened !== undefined) return opened;
      }
      throw new SecretUnreadableError(`The stored ${where} (first format) does not authenticate under any key of ENCRYPTION_KEYS`, 'authentication');
    }
    throw new SecretUnreadableError(`The stored ${where} is not in a known encrypted format`, 'format');
  }

  /** The plaintext, or undefined when the parts are malformed or do not authenticate. */
  private open(key: RingKey, ivText: string, bodyText: string, tagText: string, aad: string): string | undefined {
    const iv = part(ivText, IV_BYTES);
    const body = part(bodyText);
    const tag = part(tagText, TAG_BYTES);
    if (!iv || !body || !tag) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.enc, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }

  /** HMAC-SHA256 under the current key's signing subkey, base64url. */
  sign(data: string): string {
    return createHmac('sha256', this.current.mac).update(data).digest('base64url');
  }

  /**
   * Whether `signature` is `sign(data)` under any key of the ring (constant time per key): consent links
   * signed before a rotation keep working while their key is listed.
   */
  verifySignature(data: string, signature: string): boolean {
    const given = Buffer.from(signature);
    let ok = false;
    for (const key of this.ring) {
      const expected = Buffer.from(createHmac('sha256', key.mac).update(data).digest('base64url'));
      if (expected.length === given.length && timingSafeEqual(expected, given)) ok = true;
    }
    return ok;
  }
}
