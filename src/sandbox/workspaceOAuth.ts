// A workspace's OAuth side: its clients, consent, tokens and grants.

import type { Grant, OAuthBehaviour } from './tokens';
import type { ConsentMode, OAuthClient, TokenLifetimes, UserData } from './types';
import type { GrantInfo, TokenPolicy } from './workspaceTypes';
import { WorkspaceEvents } from './workspaceEvents';

export abstract class WorkspaceOAuth extends WorkspaceEvents {
  /** @internal */
  client(clientId: string): OAuthClient | undefined {
    return this.localClients.get(clientId) ?? this.env.sharedClients.get(clientId);
  }

  setConsentMode(mode: ConsentMode): void {
    this.consentMode = mode;
    this.changed();
  }

  /** Who clicks Allow: e.g. a non-admin agent to test "consent by a non-admin". */
  setConsentingUser(id: number): void {
    this.requireUser(id);
    this.consentingUserId = id;
    this.changed();
  }

  /** @internal */
  consentingUser(): UserData | undefined {
    return this.userData(this.consentingUserId);
  }

  /**
   * An access token without the consent dance, for a direct client (a bench's reference walk, a script):
   * a new grant of `userId` (default the owner) with `scope` (default `read`) for `clientId` (default
   * `sandbox-direct`, which needs no registration), expiring like the workspace's tokens. It is listed by
   * issuedTokens() and grants() like any other.
   */
  issueAccessToken(opts: { userId?: number; scope?: string; clientId?: string } = {}): string {
    const userId = opts.userId ?? this.ownerId;
    this.requireUser(userId);
    const now = this.now();
    const grant = this.oauth.createGrant(opts.clientId ?? 'sandbox-direct', userId, opts.scope ?? 'read', now);
    return this.oauth.issuePair(grant, this.tokens.accessTokenTtlSeconds, this.tokens.refreshTokenTtlSeconds, now).access.token;
  }

  /** Simulates an admin revoking the app's access in Zendesk's UI: every token dies. */
  revokeAllGrants(): number {
    const n = this.oauth.revokeAll();
    if (n > 0) this.counters.revoked();
    return n;
  }

  /** Every access and refresh token string ever issued (to scan logs and databases for leaks). */
  issuedTokens(): string[] {
    return this.oauth.allIssuedTokens();
  }

  /** Every authorization code ever issued. */
  issuedAuthorizationCodes(): string[] {
    return this.oauth.allIssuedCodes();
  }

  grants(): GrantInfo[] {
    return this.oauth.allGrants().map((g: Grant) => ({
      id: g.id,
      clientId: g.clientId,
      userId: g.userId,
      scope: g.scope,
      revoked: g.revoked,
      createdAt: new Date(g.createdAt).toISOString(),
    }));
  }

  setTokenLifetimes(t: TokenLifetimes): void {
    if (t.accessTokenTtlSeconds !== undefined) {
      this.tokens.accessTokenTtlSeconds = t.accessTokenTtlSeconds;
      this.tokens.accessExplicit = true;
    }
    if (t.refreshTokenTtlSeconds !== undefined) {
      this.tokens.refreshTokenTtlSeconds = t.refreshTokenTtlSeconds;
      this.tokens.refreshExplicit = true;
    }
    if (t.codeTtlSeconds !== undefined) this.tokens.codeTtlSeconds = t.codeTtlSeconds;
    this.changed();
  }

  /** Changes how the OAuth server answers (expires_in, token format, revocation scope); see OAuthBehaviour. */
  setOAuthBehaviour(behaviour: Partial<OAuthBehaviour>): void {
    this.oauth.configure(behaviour);
  }

  /** @internal */
  tokenPolicy(): TokenPolicy {
    return { ...this.tokens };
  }
}
