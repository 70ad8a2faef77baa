import { sql, type Kysely } from 'kysely';
import type { SecretBox } from '../crypto/secretBox';
import { loadCredentials, saveCredentialsReturning, type StoredCredentials } from '../db/repositories/credentials';
import type { Database } from '../db/tables';
import { ZendeskAuthError, ZendeskTransientError } from './errors';
import type { ZendeskObserver } from './http';
import { refreshTokens } from './oauth';
import { ASSUMED_ACCESS_TOKEN_LIFETIME_S } from './tokenExpiry';

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
  /** Sent as `expires_in` / `refresh_token_expires_in` on every refresh (config ZENDESK_*_EXPIRES_IN). */
  accessTokenExpiresIn?: number;
  refreshTokenExpiresIn?: number;
  observer?: ZendeskObserver;
  subdomain?: string;
}

/** After a 401: the token to retry with, and whether this provider spent the refresh token to get it. */
export interface Recovery {
  token: string;
  refreshed: boolean;
}

const NO_CREDENTIALS = 'This integration has no stored Zendesk authorization. Reconnect the integration with a Zendesk admin account.';
const NOT_REFRESHABLE =
  "Zendesk's authorization for this integration expired and cannot be renewed automatically. Reconnect the integration with a Zendesk admin account.";

export class TokenProvider {
  /** How many refresh grants this provider sent to Zendesk. */
  refreshes = 0;
  private current: StoredCredentials | undefined;
  private inflight: Promise<{ credentials: StoredCredentials; refreshed: boolean }> | undefined;
  private readonly timeoutMs: number;
  private readonly marginMs: number;

  constructor(private readonly options: TokenProviderOptions) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.marginMs = options.refreshMarginMs ?? 60_000;
  }

  /**
   * When the access token expires. Rows saved before every token got an expiry (accessExpiresAt null: Zendesk
   * sent no `expires_in`) are dated like any undated token, from when they were saved: never "does not expire".
   */
  private expiresAtMs(credentials: StoredCredentials): number {
    return credentials.accessExpiresAt?.getTime() ?? credentials.updatedAt.getTime() + ASSUMED_ACCESS_TOKEN_LIFETIME_S * 1000;
  }

  /**
   * Whether to refresh before using the token: it expires within the margin, or within half its lifetime
   * for very short-lived tokens (so a token shorter than the margin is not refreshed on every call). A token
   * without a refresh token cannot be renewed ahead: it is used until Zendesk refuses it.
   */
  private expiringSoon(credentials: StoredCredentials): boolean {
    if (credentials.refreshToken === null) return false;
    const expiresAt = this.expiresAtMs(credentials);
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
    return (await this.refresh(stored.accessToken, 'ahead')).credentials.accessToken;
  }

  /** After a 401 invalid_token with `staleToken`: a new token (someone else's fresh one, or a refresh). */
  async forceRefresh(staleToken: string): Promise<string> {
    return (await this.recoverFrom401(staleToken, true)).token;
  }

  /**
   * After a 401 for `rejected`: when the stored pair has moved on (another stream or worker rotated it, which
   * revoked `rejected`), the current token, without refreshing; otherwise, when `mayRefresh`, a refresh.
   * When the rejected token is still the stored one and refreshing is not allowed (the caller already got
   * that very token from its own refresh just now), Zendesk has refused a token it has just issued: the grant
   * is lost, ZendeskAuthError('invalid_token').
   */
  async recoverFrom401(rejected: string, mayRefresh: boolean): Promise<Recovery> {
    const { credentials, refreshed } = await this.refresh(rejected, mayRefresh ? 'after401' : 'checkOnly');
    return { token: credentials.accessToken, refreshed };
  }

  /**
   * Keeps a healthy grant alive: refreshes now (whatever the access token's state) when the refresh token
   * expires within `withinMs`, so an integration whose syncs need no refresh, or fail before they do, does not
   * lose its grant when the refresh token lapses (about 30 days). Returns the refresh token's expiry afterwards.
   */
  async refreshGrantExpiringWithin(withinMs: number): Promise<{ refreshed: boolean; refreshExpiresAt: Date | null }> {
    const { credentials, refreshed } = await this.refresh(undefined, { grantWithinMs: withinMs });
    return { refreshed, refreshExpiresAt: credentials.refreshExpiresAt };
  }

  /** One refresh decision at a time per provider; concurrent callers share it. */
  private async refresh(staleToken: string | undefined, why: RefreshReason): Promise<{ credentials: StoredCredentials; refreshed: boolean }> {
    for (;;) {
      const joined = this.inflight !== undefined;
      this.inflight ??= this.refreshLocked(staleToken, why).finally(() => {
        this.inflight = undefined;
      });
      const result = await this.inflight;
      this.current = result.credentials;
      // A shared decision that left our rejected token in place was about something else: decide for it ourselves.
      if (joined && (why === 'after401' || why === 'checkOnly') && result.credentials.accessToken === staleToken) continue;
      return result;
    }
  }

  private async refreshLocked(staleToken: string | undefined, why: RefreshReason): Promise<{ credentials: StoredCredentials; refreshed: boolean }> {
    const { db, box, integrationId } = this.options;
    try {
      return await db.transaction().execute(async (trx) => {
        // A refresh holds the lock for at most one request timeout; do not wait much longer than that.
        await sql`SET LOCAL lock_timeout = ${sql.lit(`${this.timeoutMs + 10_000}ms`)}`.execute(trx);
        const stored = await loadCredentials(trx, box, integrationId, { forUpdate: true });
        if (!stored) throw new ZendeskAuthError('invalid_grant', undefined, NO_CREDENTIALS);
        const keep = { credentials: stored, refreshed: false };
        if (typeof why === 'object') {
          const expiresAt = stored.refreshExpiresAt?.getTime();
          if (stored.refreshToken === null || expiresAt === undefined) return keep;
          // Within the window, or within half the refresh token's lifetime when that is shorter (a 7-day token
          // would otherwise be refreshed on every call).
          const window = Math.min(why.grantWithinMs, (expiresAt - stored.updatedAt.getTime()) / 2);
          if (expiresAt - Date.now() > window) return keep;
        } else if (why === 'ahead') {
          // Someone else rotated the pair since we read it, or it is not due yet: use it.
          if (!this.expiringSoon(stored)) return keep;
        } else {
          // After a 401: a pair rotated since the rejected token was taken is the answer (the rotation revoked it).
          if (stored.accessToken !== staleToken) return keep;
          if (why === 'checkOnly') throw new ZendeskAuthError('invalid_token', 401);
        }
        if (!stored.refreshToken) throw new ZendeskAuthError('invalid_grant', undefined, NOT_REFRESHABLE);
        const tokens = await refreshTokens({
          baseUrl: this.options.baseUrl,
          clientId: this.options.clientId,
          clientSecret: this.options.clientSecret,
          refreshToken: stored.refreshToken,
          scope: stored.scope,
          refreshExpiresAt: stored.refreshExpiresAt,
          expiresIn: this.options.accessTokenExpiresIn,
          refreshTokenExpiresIn: this.options.refreshTokenExpiresIn,
          timeoutMs: this.timeoutMs,
          observer: this.options.observer,
          subdomain: this.options.subdomain,
        });
        this.refreshes++;
        // Saved at once, in the lock's transaction: the refresh token we sent is dead from this moment on.
        const saved = await saveCredentialsReturning(trx, box, integrationId, tokens);
        return { credentials: { ...tokens, ...saved }, refreshed: true };
      });
    } catch (err) {
      if (isLockTimeout(err)) throw new ZendeskTransientError('Timed out waiting for another worker to refresh the Zendesk token');
      throw err;
    }
  }
}

/** Why a refresh is considered: ahead of expiry, after a 401 (may refresh, or only look), or to keep the grant alive. */
type RefreshReason = 'ahead' | 'after401' | 'checkOnly' | { grantWithinMs: number };

function isLockTimeout(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '55P03';
}
