import { createHmac } from 'node:crypto';

/**
 * The encryption keys of a deployment (ENCRYPTION_KEYS, or the single ENCRYPTION_KEY): 32 random bytes
 * each, the first one current. Labels are for people (logs, `npm run rotate-keys`); what a ciphertext
 * carries is the key's **id**, a fingerprint derived from the key itself, so renaming a label, or moving
 * from ENCRYPTION_KEY to ENCRYPTION_KEYS, can never make a stored secret unreadable.
 */
export interface EncryptionKey {
  label: string;
  key: Buffer;
}

export const KEY_BYTES = 32;
const LABEL = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * A key's id: 48 bits of HMAC-SHA256(key, purpose), base64url (8 characters). One-way, so it says nothing
 * about the key; long enough that two keys of one list never share it (checked by parseEncryptionKeys).
 */
export function keyId(key: Buffer): string {
  return createHmac('sha256', key).update('zendesk-worker/key-id').digest().subarray(0, 6).toString('base64url');
}

/** 32 bytes as standard base64 (`openssl rand -base64 32`), or undefined. Canonical only: no stray characters. */
export function decodeKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  const bytes = Buffer.from(trimmed, 'base64');
  if (bytes.length !== KEY_BYTES || bytes.toString('base64').replace(/=+$/, '') !== trimmed.replace(/=+$/, '')) return undefined;
  return bytes;
}

export type KeyListParse = { ok: true; keys: EncryptionKey[] } | { ok: false; problems: string[] };

/**
 * `ENCRYPTION_KEYS`: `label:base64,label:base64,…`, the first one current (it encrypts; every one
 * decrypts). Problems name entries by position and label, never by value.
 */
export function parseEncryptionKeys(text: string): KeyListParse {
  const problems: string[] = [];
  const keys: EncryptionKey[] = [];
  const entries = text.split(',').map((e) => e.trim());
  entries.forEach((entry, i) => {
    const at = `entry ${i + 1}`;
    const colon = entry.indexOf(':');
    if (colon < 0) {
      problems.push(`${at} must be label:base64-key (e.g. k2:$(openssl rand -base64 32))`);
      return;
    }
    const label = entry.slice(0, colon);
    if (!LABEL.test(label)) problems.push(`${at}: the label must be 1–32 letters, digits, - or _`);
    const key = decodeKey(entry.slice(colon + 1));
    if (!key) problems.push(`${at} (${LABEL.test(label) ? label : '?'}): the key must be 32 random bytes encoded as base64 (openssl rand -base64 32)`);
    if (key && LABEL.test(label)) keys.push({ label, key });
  });
  const labels = keys.map((k) => k.label);
  const ids = keys.map((k) => keyId(k.key));
  labels.forEach((l, i) => labels.indexOf(l) !== i && problems.push(`the label ${l} is used twice`));
  ids.forEach((id, i) => ids.indexOf(id) !== i && problems.push(`${labels[i]} is the same key as ${labels[ids.indexOf(id)]}`));
  return problems.length ? { ok: false, problems } : { ok: true, keys };
}
