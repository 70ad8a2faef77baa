import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for secrets at rest (tokens, PKCE verifiers, authorization codes).
 * Stored form: `v1.<iv>.<ciphertext>.<tag>`, base64url parts. The encryption key is derived from
 * ENCRYPTION_KEY so that the same key never serves both encryption and state signing.
 */
export class SecretBox {
  private readonly encKey: Buffer;
  private readonly macKey: Buffer;

  constructor(masterKey: Buffer) {
    if (masterKey.length !== 32) throw new Error('ENCRYPTION_KEY must be 32 bytes');
    this.encKey = createHmac('sha256', masterKey).update('zendesk-worker/encryption').digest();
    this.macKey = createHmac('sha256', masterKey).update('zendesk-worker/signing').digest();
  }

  encrypt(plaintext: string, associatedData = ''): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.encKey, iv);
    cipher.setAAD(Buffer.from(associatedData));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** Throws when the value was tampered with, bound to other data, or encrypted under another key. */
  decrypt(sealed: string, associatedData = ''): string {
    const [version, iv, body, tag] = sealed.split('.');
    if (version !== 'v1' || !iv || body === undefined || !tag) throw new Error('Unreadable encrypted value');
    const decipher = createDecipheriv('aes-256-gcm', this.encKey, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(associatedData));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }

  /** HMAC-SHA256 under the signing subkey, base64url. */
  sign(data: string): string {
    return createHmac('sha256', this.macKey).update(data).digest('base64url');
  }
}
