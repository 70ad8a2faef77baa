import { sql, type Kysely } from 'kysely';
import type { SecretBox } from '../crypto/secretBox';
import { loadCredentials, saveCredentialsReturning, type StoredCredentials } from '../db/repositories/credentials';
import type { Database } from '../db/tables';
import { ZendeskAuthError, ZendeskTransientError } from './errors';
import type { ZendeskObserver } from './http';
import { refreshTokens } from './oauth';

/**
 * Access tokens of one integration. Refreshes shortly before expiry or after a 401, and serializes
 * refreshes across processes with a row lock on `oauth_credentials`: whoever holds the lock either sees
 * that someone else already rotated the pair (and uses theirs) or spends the refresh token and saves the
 * rotated pair in the same transaction. Two workers never spend the same refresh token.
 */

export interface TokenProviderOptions {
  db: Kysely<Database>;
  box: SecretBox;
  integrationId: string;
  /** The workspace base URL (workspaceBaseUrl()). */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs?: number;
  /** Refresh when the access token expires within this many ms. Default 60 s. */
  refreshMarginMs?: number;
  observer?: ZendeskObserver;
  subdomain?: string;
}

const NO_CREDENTIALS =
  'This integration has no stored Zendesk authorization. Reconnect the integration with a Zendesk admin account.';
const NOT_REFRESHABLE =
  'Zendesk\'s authorization for this integration expired and cannot be renewed automatically. Reconnect the integration with a Zendesk admin account.';

export class TokenProvider {
  /** How many refresh grants this provider sent to Zendesk. */
  refreshes = 0;
  private current: StoredCredentials | undefined;
  private inflight: Promise<StoredCredentials> | undefined;
  private readonly timeoutMs: number;
  private readonly marginMs: number;

  constructor(private readonly options: TokenProviderOptions) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.marginMs = options.refreshMarginMs ?? 60_000;
  }

  /**
   * Whether to refresh before using the token: it expires within the margin, or within half its lifetime
   * for very short-lived tokens (so a token shorter than the margin is not refreshed on every call).
   */
  private expiringSoon(credentials: StoredCredentials): boolean {
    if (credentials.accessExpiresAt === null) return false;
    const expiresAt = credentials.accessExpiresAt.getTime();
    const lifetime = expiresAt - credentials.updatedAt.getTime();
    const margin = lifetime > 0 ? Math.min(this.marginMs, lifetime / 2) : this.marginMs;
    return expiresAt - Date.now() <= margin;
  }

  /** A usable access token, refreshed first when it expires within the margin. */
  async getAccessToken(): Promise<string> {
    if (this.current && !this.expiringSoon(this.current)) return this.current.accessToken;
    const stored = await loadCredentials(this.options.db, this.options.box, this.options.integrationId);
    if (!stored) throw new ZendeskAuthError('invalid_grant', undefined, NO_CREDENTIALS);
    this.current = stored;
    if (!this.expiringSoon(stored)) return stored.accessToken;
    return (await this.refresh(stored.accessToken, false)).accessToken;
  }

  /** After a 401 invalid_token with `staleToken`: a new token (someone else's fresh one, or a refresh). */
  async forceRefresh(staleToken: string): Promise<string> {
    return (await this.refresh(staleToken, true)).accessToken;
  }

  private refresh(staleToken: string, forced: boolean): Promise<StoredCredentials> {
    if (!this.inflight) {
      this.inflight = this.refreshLocked(staleToken, forced).finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight.then((credentials) => {
      this.current = credentials;
      return credentials;
    });
  }

  private async refreshLocked(staleToken: string, forced: boolean): Promise<StoredCredentials> {
    const { db, box, integrationId } = this.options;
    try {
      return await db.transaction().execute(async (trx) => {
        // A refresh holds the lock for at most one request timeout; do not wait much longer than that.
        await sql`SET LOCAL lock_timeout = ${sql.lit(`${this.timeoutMs + 10_000}ms`)}`.execute(trx);
        const stored = await loadCredentials(trx, box, integrationId, { forUpdate: true });
        if (!stored) throw new ZendeskAuthError('invalid_grant', undefined, NO_CREDENTIALS);
        // Someone else rotated the pair since we read it: use theirs.
        if (stored.accessToken !== staleToken && (forced || !this.expiringSoon(stored))) return stored;
        if (!forced && !this.expiringSoon(stored)) return stored;
        if (!stored.refreshToken) throw new ZendeskAuthError('invalid_grant', undefined, NOT_REFRESHABLE);
        const tokens = await refreshTokens({
          baseUrl: this.options.baseUrl,
          clientId: this.options.clientId,
          clientSecret: this.options.clientSecret,
          refreshToken: stored.refreshToken,
          timeoutMs: this.timeoutMs,
          observer: this.options.observer,
          subdomain: this.options.subdomain,
        });
        this.refreshes++;
        const saved = await saveCredentialsReturning(trx, box, integrationId, tokens);
        return { ...tokens, ...saved };
      });
    } catch (err) {
      if (isLockTimeout(err)) throw new ZendeskTransientError('Timed out waiting for another worker to refresh the Zendesk token');
      throw err;
    }
  }
}

function isLockTimeout(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '55P03';
}
