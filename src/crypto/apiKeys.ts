import { hash, randomBytes } from 'node:crypto';

/** Tenant API keys: high-entropy random strings, so a plain SHA-256 is a sound at-rest form. */
export function generateApiKey(): string {
  return `zk_${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(key: string): string {
  // One-shot: every API request hashes its key, and crypto.hash builds no Hash object.
  return hash('sha256', key, 'hex');
}

/** What is kept of a key in the clear to tell keys apart in listings: its last 4 characters (24 of its 256 random bits). */
export function apiKeyHint(key: string): string {
  return key.slice(-4);
}
