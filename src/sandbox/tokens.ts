// OAuth state of one workspace: authorization codes, grants (one per consent) and the rotating
// access/refresh token pairs issued under each grant, and how this workspace's OAuth server behaves
// where real accounts differ (see OAuthBehaviour).

import { randomBytes } from 'node:crypto';

export interface AuthCode {
  code: string;
  clientId: string;
  redirectUri: string;
  /** Whether the authorize request named the redirect_uri (then the token request must repeat it). */
  redirectUriGiven: boolean;
  scope: string;
  userId: number;
  codeChallenge: string | null;
  expiresAt: number;
  used: boolean;
}

export interface Grant {
  id: number;
  clientId: string;
  userId: number;
  scope: string;
  /** Zendesk issues tokens for malformed scopes; every API call with them then answers 403. */
  scopeValid: boolean;
  createdAt: number;
  revoked: boolean;
}

export interface AccessTokenRecord {
  id: number;
  token: string;
  grantId: number;
  createdAt: number;
  expiresAt: number | null;
  revoked: boolean;
  refreshToken: string | null;
  usedAt: number | null;
}

export interface RefreshTokenRecord {
  token: string;
  grantId: number;
  accessTokenId: number;
  createdAt: number;
  expiresAt: number;
  /** Used for a refresh (rotated away) or revoked. */
  dead: boolean;
}

const RESOURCES = [
  'tickets',
  'users',
  'auditlogs',
  'organizations',
  'hc',
  'apps',
  'triggers',
  'automations',
  'targets',
  'webhooks',
  'macros',
  'requests',
  'satisfaction_ratings',
  'dynamic_content',
  'any_channel',
  'web_widget',
];

/** True for a space-separated list of Zendesk scopes (read, write, impersonate, resource:read|write). */
function isValidScope(scope: string): boolean {
  const parts = scope.split(' ').filter((p) => p.length > 0);
  if (parts.length === 0) return false;
  return parts.every((p) => {
    if (p === 'read' || p === 'write' || p === 'impersonate') return true;
    const m = /^([a-z_]+):(read|write)$/.exec(p);
    return m !== null && RESOURCES.includes(m[1]!);
  });
}

/** Whether the grant may call DELETE endpoints such as revocation (the global `write` scope). */
export function scopeAllowsDelete(scope: string): boolean {
  return scope.split(' ').includes('write');
}

/** Whether the grant may write the resource (global `write` or `<resource>:write`). */
export function scopeAllowsWrite(scope: string, resource: 'users' | 'tickets'): boolean {
  const parts = scope.split(' ');
  return parts.includes('write') || parts.includes(`${resource}:write`);
}

/** Whether the grant may read the resource (global `read` or `<resource>:read`). */
export function scopeAllowsRead(scope: string, resource: 'users' | 'tickets'): boolean {
  const parts = scope.split(' ');
  return parts.includes('read') || parts.includes(`${resource}:read`);
}

function secret(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/**
 * Where real Zendesk OAuth servers differ from the documentation, or from one account to another. The
 * defaults are what a global client with enforced token expiry gets in 2026 (docs/zendesk.md, "OAuth tokens
 * and revocation"; fixtures in test/fixtures/zendesk/oauth/).
 */
export interface OAuthBehaviour {
  /**
   * When a token response carries `expires_in`: `requested` (default) only when the token request sent
   * `expires_in` — what Zendesk does for global clients with enforced expiry [obs: NangoHQ/nango#6775];
   * `always` as the documentation's examples show; `never` leaves the JWT's `exp` (or a 401) as the only
   * signal. A token that never expires always says `expires_in: null`.
   */
  expiresIn: 'requested' | 'always' | 'never';
  /** `jwt` (default): `header.payload.signature` access tokens (`typ: at+jwt`) with `exp`; `opaque`: random hex. */
  accessTokenFormat: 'jwt' | 'opaque';
  /**
   * Revoking a token (DELETE /api/v2/oauth/tokens/{id} or …/current) needs the `write` scope (default true):
   * Zendesk's OpenAPI file says "The 'write' scope gives access to POST, PUT, and DELETE endpoints", so a
   * `read` token is answered 403.
   */
  revokeNeedsWrite: boolean;
}

const DEFAULT_OAUTH_BEHAVIOUR: OAuthBehaviour = { expiresIn: 'requested', accessTokenFormat: 'jwt', revokeNeedsWrite: true };

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A JWT-shaped access token as enforced-expiry clients get them: header `{"typ":"at+jwt","alg":"RS256"}`, a
 * payload with `exp` (absent for a token that never expires), `iat` and the grant's scopes, and a random
 * signature (nobody verifies it: the sandbox looks tokens up by their whole string). Only `typ: at+jwt` and
 * `exp` are known of real tokens; the other claims are a guess at what an RFC 9068 token carries.
 */
function jwtAccessToken(grant: Grant, tokenId: number, now: number, expiresAt: number | null): string {
  const iat = Math.floor(now / 1000);
  const payload: Record<string, unknown> = {
    iss: 'zendesk-sandbox',
    sub: String(grant.userId),
    client_id: grant.clientId,
    jti: `${tokenId}-${secret(8)}`,
    iat,
    ...(expiresAt === null ? {} : { exp: Math.floor(expiresAt / 1000) }),
    scopes: grant.scope.split(' ').filter(Boolean),
  };
  return `${b64url({ typ: 'at+jwt', alg: 'RS256' })}.${b64url(payload)}.${randomBytes(32).toString('base64url')}`;
}

/**
 * What a sandbox restart must keep of a workspace's OAuth state so the tokens it issued keep working:
 * the live records only (a rotated-away or revoked token answers like an unknown one) and the id counters.
 */
export interface OAuthSnapshot {
  codes: AuthCode[];
  grants: Grant[];
  accessTokens: AccessTokenRecord[];
  refreshTokens: RefreshTokenRecord[];
  nextGrantId: number;
  nextTokenId: number;
  /** Absent in snapshots written before it existed: the defaults. */
  behaviour?: OAuthBehaviour;
}

export class OAuthState {
  /** Called after every change (codes, grants, tokens): the sandbox persists its state then. */
  onChange: (() => void) | undefined;
  behaviour: OAuthBehaviour = { ...DEFAULT_OAUTH_BEHAVIOUR };

  private readonly codes = new Map<string, AuthCode>();
  private readonly grants = new Map<number, Grant>();
  private readonly accessByToken = new Map<string, AccessTokenRecord>();
  private readonly accessById = new Map<number, AccessTokenRecord>();
  private readonly refreshByToken = new Map<string, RefreshTokenRecord>();
  private readonly issued: string[] = [];
  private readonly issuedCodes: string[] = [];
  private nextGrantId = 1;
  private nextTokenId: number;

  constructor(idBase: number) {
    this.nextTokenId = idBase;
  }

  configure(behaviour: Partial<OAuthBehaviour> | undefined): void {
    this.behaviour = { ...this.behaviour, ...behaviour };
    this.changed();
  }

  createCode(c: Omit<AuthCode, 'code' | 'used'>): AuthCode {
    const code: AuthCode = { ...c, code: secret(20), used: false };
    this.codes.set(code.code, code);
    this.issuedCodes.push(code.code);
    this.changed();
    return code;
  }

  /** Any presentation of a code burns it. */
  burnCode(code: AuthCode): void {
    code.used = true;
    this.changed();
  }

  code(code: string): AuthCode | undefined {
    return this.codes.get(code);
  }

  createGrant(clientId: string, userId: number, scope: string, now: number): Grant {
    const grant: Grant = { id: this.nextGrantId++, clientId, userId, scope, scopeValid: isValidScope(scope), createdAt: now, revoked: false };
    this.grants.set(grant.id, grant);
    this.changed();
    return grant;
  }

  grant(id: number): Grant | undefined {
    return this.grants.get(id);
  }

  allGrants(): Grant[] {
    return [...this.grants.values()];
  }

  /** Issues a new pair under the grant; any pair issued before under it dies (rotation). */
  issuePair(grant: Grant, accessTtlSeconds: number | null, refreshTtlSeconds: number, now: number) {
    this.killPairs(grant.id);
    const expiresAt = accessTtlSeconds === null ? null : now + accessTtlSeconds * 1000;
    const access: AccessTokenRecord = {
      id: this.nextTokenId,
      token: this.behaviour.accessTokenFormat === 'jwt' ? jwtAccessToken(grant, this.nextTokenId, now, expiresAt) : secret(32),
      grantId: grant.id,
      createdAt: now,
      expiresAt,
      revoked: false,
      refreshToken: null,
      usedAt: null,
    };
    this.nextTokenId += 7;
    const refresh: RefreshTokenRecord = {
      token: secret(32),
      grantId: grant.id,
      accessTokenId: access.id,
      createdAt: now,
      expiresAt: now + refreshTtlSeconds * 1000,
      dead: false,
    };
    access.refreshToken = refresh.token;
    this.accessByToken.set(access.token, access);
    this.accessById.set(access.id, access);
    this.refreshByToken.set(refresh.token, refresh);
    this.issued.push(access.token, refresh.token);
    this.changed();
    return { access, refresh };
  }

  refreshToken(token: string): RefreshTokenRecord | undefined {
    return this.refreshByToken.get(token);
  }

  accessToken(token: string): AccessTokenRecord | undefined {
    return this.accessByToken.get(token);
  }

  accessTokenById(id: number): AccessTokenRecord | undefined {
    return this.accessById.get(id);
  }

  /** Revoking a token revokes its whole grant: access token and refresh token alike. */
  revokeGrant(grantId: number): void {
    const grant = this.grants.get(grantId);
    if (grant) grant.revoked = true;
    this.killPairs(grantId);
    this.changed();
  }

  revokeAll(): number {
    let n = 0;
    for (const g of this.grants.values()) {
      if (!g.revoked) n++;
      this.revokeGrant(g.id);
    }
    return n;
  }

  allIssuedTokens(): string[] {
    return [...this.issued];
  }

  allIssuedCodes(): string[] {
    return [...this.issuedCodes];
  }

  /** The live state, as plain JSON-able records (expired codes, dead and revoked tokens left out). */
  snapshot(now: number): OAuthSnapshot {
    return {
      codes: [...this.codes.values()].filter((c) => c.expiresAt > now).map((c) => ({ ...c })),
      grants: [...this.grants.values()].map((g) => ({ ...g })),
      accessTokens: [...this.accessById.values()].filter((a) => !a.revoked && (a.expiresAt === null || a.expiresAt > now)).map((a) => ({ ...a })),
      refreshTokens: [...this.refreshByToken.values()].filter((r) => !r.dead && r.expiresAt > now).map((r) => ({ ...r })),
      nextGrantId: this.nextGrantId,
      nextTokenId: this.nextTokenId,
      behaviour: { ...this.behaviour },
    };
  }

  /** Replaces the state with a snapshot's (a fresh workspace's, at sandbox start). */
  restore(s: OAuthSnapshot): void {
    this.codes.clear();
    this.grants.clear();
    this.accessByToken.clear();
    this.accessById.clear();
    this.refreshByToken.clear();
    for (const c of s.codes) this.codes.set(c.code, { ...c });
    for (const g of s.grants) this.grants.set(g.id, { ...g });
    for (const a of s.accessTokens) {
      const record = { ...a };
      this.accessByToken.set(record.token, record);
      this.accessById.set(record.id, record);
    }
    for (const r of s.refreshTokens) this.refreshByToken.set(r.token, { ...r });
    this.issued.push(...s.accessTokens.map((a) => a.token), ...s.refreshTokens.map((r) => r.token));
    this.issuedCodes.push(...s.codes.map((c) => c.code));
    this.nextGrantId = Math.max(this.nextGrantId, s.nextGrantId);
    this.nextTokenId = Math.max(this.nextTokenId, s.nextTokenId);
    this.behaviour = { ...DEFAULT_OAUTH_BEHAVIOUR, ...s.behaviour };
  }

  private changed(): void {
    this.onChange?.();
  }

  private killPairs(grantId: number): void {
    for (const a of this.accessById.values()) if (a.grantId === grantId) a.revoked = true;
    for (const r of this.refreshByToken.values()) if (r.grantId === grantId) r.dead = true;
  }
}
