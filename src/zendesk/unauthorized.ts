import { ZendeskAuthError, ZendeskTransientError } from './errors';
import type { TokenProvider } from './tokens';

/**
 * What the 401s of one call mean (issue 12 §3). A 401 invalid_token is a lost grant only when Zendesk refuses
 * a token it has just issued to us; anything else is a token that expired or was rotated away, and the call
 * goes on with a current one:
 *
 * - the stored pair has moved on since the rejected token was taken: another stream or worker refreshed, which
 *   revoked our token. Retry with theirs; it says nothing about the grant. Several streams with short tokens
 *   and long rate-limit waits do this to each other, so it is allowed up to MAX_ROTATED_ELSEWHERE times;
 *   beyond that the call fails with a retryable error (Temporal retries the activity), never a lost grant;
 * - the rejected token is still the stored one: it has expired (or Zendesk gave no expiry and we assumed too
 *   long). Refresh, and retry with the new token;
 * - the rejected token is the one our own refresh returned in this call, sent within FRESH_TOKEN_MS of it:
 *   it cannot have expired, and nobody else has rotated it. Zendesk refuses the grant: ZendeskAuthError
 *   ('invalid_token'), and the integration needs re-authorization. (A grant Zendesk has revoked is usually
 *   caught earlier: the refresh itself answers invalid_grant.)
 * - our own token refused after a wait longer than its real lifetime (tokens without any expiry, shorter
 *   than a rate-limit wait): refreshed up to MAX_OWN_REFRESHES times, then a retryable error: refreshing
 *   works, so the grant is fine.
 */

/** Retries with a token someone else rotated in, per call. */
const MAX_ROTATED_ELSEWHERE = 5;
/** Refreshes after 401s of our own tokens, per call. */
const MAX_OWN_REFRESHES = 3;
/**
 * A token sent this soon after our own refresh returned it cannot have expired: shorter than any access-token
 * lifetime (Zendesk's minimum is 300 s; the sandbox tests' shortest is 1 s).
 */
const FRESH_TOKEN_MS = 1_000;

export class Unauthorized401s {
  private rotatedElsewhere = 0;
  private ownRefreshes = 0;
  private ownToken: { token: string; atMs: number } | undefined;

  constructor(private readonly tokens: TokenProvider) {}

  /** After a 401 for `rejected`, sent at `sentAtMs`: makes the provider hold the token to retry with, or throws. */
  async recover(rejected: string, sentAtMs: number): Promise<void> {
    const fresh = this.ownToken?.token === rejected && sentAtMs - this.ownToken.atMs < FRESH_TOKEN_MS;
    const mayRefresh = !fresh && this.ownRefreshes < MAX_OWN_REFRESHES;
    let recovery;
    try {
      recovery = await this.tokens.recoverFrom401(rejected, mayRefresh);
    } catch (err) {
      if (err instanceof ZendeskAuthError && err.kind === 'invalid_token' && !fresh) {
        throw new ZendeskTransientError(
          `Zendesk refused ${MAX_OWN_REFRESHES} freshly refreshed access tokens after waits longer than their lifetime; the grant itself still works`,
        );
      }
      throw err;
    }
    if (recovery.refreshed) {
      this.ownRefreshes++;
      this.ownToken = { token: recovery.token, atMs: Date.now() };
      return;
    }
    this.rotatedElsewhere++;
    if (this.rotatedElsewhere > MAX_ROTATED_ELSEWHERE) {
      throw new ZendeskTransientError(`Zendesk access tokens were rotated by other requests ${MAX_ROTATED_ELSEWHERE} times while this request waited`);
    }
  }
}
