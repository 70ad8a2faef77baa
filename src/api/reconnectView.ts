import type { z } from 'zod';
import { revocationResult } from '../activities/revoke';
import type { OAuthFlow } from '../db/tables';
import type { ReconnectAttempt } from './schemas';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

const UNANSWERED = 'Nobody approved access in time; the current authorization was kept. Use Reconnect to send a new consent link.';

/**
 * The `reconnect` field of an integration: its newest consent attempt when that attempt was a reconnect of a
 * connected integration (an attempt of any other kind shows in the integration's `status`). An attempt whose
 * link ran out before its workflow recorded it reads `expired` already.
 */
export function reconnectView(newest: OAuthFlow | undefined, now = new Date()): z.infer<typeof ReconnectAttempt> | null {
  if (!newest || newest.purpose !== 'reconnect') return null;
  const status = newest.outcome ?? (!newest.used_at && newest.expires_at <= now ? 'expired' : 'pending');
  const error = status === 'pending' || status === 'completed' ? null : (newest.outcome_message ?? UNANSWERED);
  return {
    status,
    requestedAt: newest.created_at.toISOString(),
    expiresAt: newest.expires_at.toISOString(),
    finishedAt: iso(newest.finished_at),
    error,
    revocation: newest.revocation ? revocationResult(newest.revocation) : null,
  };
}
