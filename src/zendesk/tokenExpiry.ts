import { z } from 'zod';

/**
 * When an access token expires, from what a token response says. A missing `expires_in` never means "does
 * not expire": Zendesk leaves it out for global clients with enforced expiry unless the request sent one
 * (docs/zendesk.md, "OAuth tokens and revocation"), and a client that believed it would never refresh.
 *
 * 1. `expires_in` when the response has it;
 * 2. else the access token's JWT lifetime (`exp`, and `iat` when present): enforced-expiry clients get
 *    `typ: at+jwt` tokens;
 * 3. else an assumed short lifetime; a 401 before then refreshes anyway.
 */

/**
 * The assumed lifetime of an access token nothing dates: 30 minutes. It is Zendesk's default access-token TTL
 * for clients with enforced expiry (help article 10212201463962) and what the worker asks for by default. A
 * token that really lives longer is refreshed early (one token request per half hour: nothing); one that lives
 * shorter is met by a 401 and refreshed then. Assuming longer would only make the 401 path the usual one.
 */
export const ASSUMED_ACCESS_TOKEN_LIFETIME_S = 1800;

/** The longest an access token may live (Zendesk: `expires_in` < 172,800 s); a JWT claiming more is capped. */
const MAX_ACCESS_TOKEN_LIFETIME_S = 172_800;

type AccessExpirySource = 'expires_in' | 'jwt' | 'assumed';

export interface AccessTokenExpiry {
  expiresAt: Date;
  source: AccessExpirySource;
}

const claimsSchema = z.looseObject({
  exp: z.number().finite().optional(),
  iat: z.number().finite().optional(),
});
export type JwtClaims = z.infer<typeof claimsSchema>;

/**
 * The claims of a JWT-shaped token (`header.payload.signature`), or undefined for anything else. The payload
 * is only decoded, never verified: the token is Zendesk's to check when we present it (we are not its audience
 * and hold no key for it), and all we take from it is a hint of when to refresh. A forged or odd `exp` can at
 * worst make us refresh early, or meet a 401 and refresh then.
 */
export function jwtClaims(token: string): JwtClaims | undefined {
  const parts = token.split('.');
  const payload = parts[1];
  if (parts.length !== 3 || !payload) return undefined;
  try {
    const parsed = claimsSchema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The token's lifetime in seconds from its claims: `exp − iat` when both are there (so a clock difference
 * between Zendesk and us does not move the expiry; the lifetime is counted from when we sent the request),
 * else `exp` as an instant. Undefined when that is not a positive duration: an `exp` already past by our
 * clock means our clocks disagree, not that Zendesk sent a dead token, and refreshing at once would loop.
 */
function jwtLifetimeSeconds(token: string, issuedAtMs: number): number | undefined {
  const claims = jwtClaims(token);
  if (claims?.exp === undefined) return undefined;
  const lifetime = claims.iat !== undefined ? claims.exp - claims.iat : claims.exp - issuedAtMs / 1000;
  if (!(lifetime > 0)) return undefined;
  return Math.min(lifetime, MAX_ACCESS_TOKEN_LIFETIME_S);
}

/**
 * When the access token expires. `issuedAtMs` is taken before the token request was sent, so every estimate
 * errs early. `requestedSeconds` is the `expires_in` we asked for: assumed when shorter than the default.
 */
export function accessTokenExpiry(accessToken: string, expiresIn: number | null, issuedAtMs: number, requestedSeconds?: number): AccessTokenExpiry {
  const at = (seconds: number) => new Date(issuedAtMs + Math.round(seconds * 1000));
  if (expiresIn !== null) return { expiresAt: at(expiresIn), source: 'expires_in' };
  const fromJwt = jwtLifetimeSeconds(accessToken, issuedAtMs);
  if (fromJwt !== undefined) return { expiresAt: at(fromJwt), source: 'jwt' };
  return { expiresAt: at(Math.min(ASSUMED_ACCESS_TOKEN_LIFETIME_S, requestedSeconds ?? ASSUMED_ACCESS_TOKEN_LIFETIME_S)), source: 'assumed' };
}
