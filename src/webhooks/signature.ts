import { createHmac, randomBytes } from 'node:crypto';

/**
 * Signing as the Standard Webhooks specification describes it (github.com/standard-webhooks/standard-webhooks,
 * spec/standard-webhooks.md, "Signature scheme"), so a receiver verifies with any of its libraries:
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, keyed with the
 * bytes of the secret after its `whsec_` prefix (base64). Several signatures are separated by spaces (the
 * spec's way to rotate secrets: the receiver accepts the message when any one verifies).
 */

const PREFIX = 'whsec_';

/** A new signing secret: 32 random bytes, as `whsec_<base64>`. */
export function newWebhookSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

function keyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
}

export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', keyOf(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** The three headers of one attempt: the same id on every attempt, the signature(s) recomputed for its timestamp. */
export function webhookHeaders(secrets: readonly string[], id: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((s) => signWebhook(s, id, timestampSeconds, body)).join(' '),
  };
}
