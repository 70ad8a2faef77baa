import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenSetFromResponse } from '../../src/zendesk/oauth';
import { tokenResponseSchema } from '../../src/zendesk/schemas';
import { ASSUMED_ACCESS_TOKEN_LIFETIME_S, accessTokenExpiry, jwtClaims } from '../../src/zendesk/tokenExpiry';

/** Issue 12 §3: a missing `expires_in` never means "does not expire". */

const ISSUED = Date.parse('2026-07-01T12:00:00Z');
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const jwt = (payload: unknown, header: unknown = { typ: 'at+jwt', alg: 'RS256' }) => `${b64(header)}.${b64(payload)}.${b64('signature-bytes')}`;
const at = (seconds: number) => new Date(ISSUED + seconds * 1000);
const iat = Math.floor(ISSUED / 1000);

test('expires_in wins when present, whatever the token looks like', () => {
  assert.deepEqual(accessTokenExpiry(jwt({ iat, exp: iat + 60 }), 1800, ISSUED), { expiresAt: at(1800), source: 'expires_in' });
  assert.deepEqual(accessTokenExpiry('opaque', 600, ISSUED), { expiresAt: at(600), source: 'expires_in' });
});

test('without expires_in, a JWT access token gives its lifetime: exp − iat, counted from our clock', () => {
  // Zendesk's clock may differ from ours: the lifetime (exp − iat) is applied from when we sent the request.
  assert.deepEqual(accessTokenExpiry(jwt({ iat: iat - 3600, exp: iat - 3600 + 1800, scopes: ['read'] }), null, ISSUED), { expiresAt: at(1800), source: 'jwt' });
  // No iat: exp is taken as an instant.
  assert.deepEqual(accessTokenExpiry(jwt({ exp: iat + 900 }), null, ISSUED), { expiresAt: at(900), source: 'jwt' });
  // Longer than Zendesk allows an access token to live (2 days): capped.
  assert.deepEqual(accessTokenExpiry(jwt({ iat, exp: iat + 30 * 86_400 }), null, ISSUED), { expiresAt: at(172_800), source: 'jwt' });
});

test('a JWT whose exp is unusable, or a token that is no JWT: a short assumed lifetime, never "does not expire"', () => {
  const assumed = { expiresAt: at(ASSUMED_ACCESS_TOKEN_LIFETIME_S), source: 'assumed' };
  assert.equal(ASSUMED_ACCESS_TOKEN_LIFETIME_S, 1800);
  for (const token of [
    'a1b2c3d4e5f6', // opaque hex
    jwt({ iat }), // no exp
    jwt({ iat, exp: 'tomorrow' }),
    jwt({ iat, exp: iat }), // lifetime 0
    jwt({ iat, exp: iat - 10 }),
    jwt({ exp: iat - 60 }), // already past by our clock: a skewed clock, not a dead token
    `${b64({ typ: 'at+jwt' })}.not-base64-json.sig`,
    `${b64({ typ: 'at+jwt' })}.${b64('[1,2]')}.sig`,
    'one.two', // two parts
    'a.b.c.d',
    '',
  ]) {
    assert.deepEqual(accessTokenExpiry(token, null, ISSUED), assumed, token);
  }
  // When we asked for less than the assumed lifetime, assume what we asked for.
  assert.deepEqual(accessTokenExpiry('opaque', null, ISSUED, 600), { expiresAt: at(600), source: 'assumed' });
  assert.deepEqual(accessTokenExpiry('opaque', null, ISSUED, 7200), assumed);
});

test('jwtClaims decodes the payload only (no verification: we are not the audience)', () => {
  assert.deepEqual(jwtClaims(jwt({ exp: 5, iat: 1, scopes: ['read'] })), { exp: 5, iat: 1, scopes: ['read'] });
  assert.equal(jwtClaims('opaque'), undefined);
  assert.equal(jwtClaims(`${b64({ alg: 'none' })}.${b64('"a string"')}.`), undefined);
});

test('token responses: only access_token is required; odd optional fields never lose the pair', () => {
  const minimal = tokenResponseSchema.parse({ access_token: 'a' });
  assert.deepEqual(tokenSetFromResponse(minimal, ISSUED, { requestedScope: 'read' }), {
    accessToken: 'a',
    refreshToken: null,
    accessExpiresAt: at(1800),
    refreshExpiresAt: null,
    scope: 'read',
  });
  const odd = tokenResponseSchema.parse({
    access_token: jwt({ iat, exp: iat + 1200 }),
    token_type: 'Bearer',
    scope: 42,
    refresh_token: 'r',
    expires_in: 'soon',
    refresh_token_expires_in: '2592000',
    extra: { nested: true },
  });
  const set = tokenSetFromResponse(odd, ISSUED, { requestedScope: 'read' });
  assert.equal(set.refreshToken, 'r');
  assert.deepEqual(set.accessExpiresAt, at(1200), 'an unreadable expires_in falls back to the JWT');
  assert.deepEqual(set.refreshExpiresAt, at(2_592_000), 'a numeric string is read as a number');
  assert.equal(set.scope, 'read', 'a scope that is not a string falls back to the requested one');
  // token_type is tolerated whatever it says (the token works or a 401 says so); an empty refresh token is none.
  assert.equal(tokenResponseSchema.safeParse({ access_token: 'a', token_type: 'mac', refresh_token: '' }).success, true);
  assert.equal(tokenResponseSchema.parse({ access_token: 'a', refresh_token: '' }).refresh_token, null);
  assert.equal(tokenResponseSchema.parse({ access_token: 'a', expires_in: -5 }).expires_in, null);
  assert.equal(tokenResponseSchema.parse({ access_token: 'a', expires_in: 1800.5 }).expires_in, null);
  // Without an access token there is nothing to store.
  assert.equal(tokenResponseSchema.safeParse({ refresh_token: 'r' }).success, false);
  assert.equal(tokenResponseSchema.safeParse({ access_token: '' }).success, false);
  assert.equal(tokenResponseSchema.safeParse(null).success, false);
});
