import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDemoSandbox, type Sandbox, type SandboxWorkspace } from '../../src/sandbox';
import { api, authorizeUrl, CLIENT, connect, getCode, pkce, postToken, REDIRECT, start, TestClock } from './helpers';

const INVALID_TOKEN = {
  error: 'invalid_token',
  error_description: 'The access token provided is expired, revoked, malformed or invalid for other reasons.',
};

describe('OAuth consent page', () => {
  let sb: Sandbox;
  let ws: SandboxWorkspace;
  before(async () => {
    sb = await start();
    ws = sb.createWorkspace({ subdomain: 'consent', users: 20, ticketEvents: 10, consentMode: 'manual' });
  });
  after(() => sb.close());

  async function page(params: Record<string, string | undefined> = {}) {
    const res = await fetch(authorizeUrl(sb, 'consent', params), { redirect: 'manual' });
    return { status: res.status, type: res.headers.get('content-type') ?? '', html: await res.text(), location: res.headers.get('location') };
  }

  function formOf(html: string): { action: string; fields: Record<string, string> } {
    const action = /<form[^>]*action="([^"]+)"/.exec(html)![1]!;
    const fields: Record<string, string> = {};
    for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
      fields[m[1]!] = m[2]!
        .replace(/&amp;/g, '&')
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>');
    }
    return { action, fields };
  }

  async function decide(html: string, decision: 'allow' | 'deny') {
    const { action, fields } = formOf(html);
    const res = await fetch(`${sb.url}${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...fields, decision }).toString(),
      redirect: 'manual',
    });
    return { status: res.status, location: new URL(res.headers.get('location')!) };
  }

  test('manual mode renders Allow and Deny; Allow redirects with code and state', async () => {
    const p = await page({ state: 'a&b "c"' });
    assert.equal(p.status, 200);
    assert.match(p.type, /text\/html/);
    assert.match(p.html, /Allow/);
    assert.match(p.html, /Deny/);
    const r = await decide(p.html, 'allow');
    assert.equal(r.status, 302);
    assert.equal(`${r.location.origin}${r.location.pathname}`, REDIRECT);
    assert.ok(r.location.searchParams.get('code'));
    assert.equal(r.location.searchParams.get('state'), 'a&b "c"');
  });

  test('Deny redirects with error=access_denied, a description and the state', async () => {
    const p = await page();
    const r = await decide(p.html, 'deny');
    assert.equal(r.status, 302);
    assert.equal(r.location.searchParams.get('error'), 'access_denied');
    assert.ok(r.location.searchParams.get('error_description'));
    assert.equal(r.location.searchParams.get('state'), 'state-123');
    assert.equal(r.location.searchParams.get('code'), null);
  });

  test('allow and deny modes redirect straight from the GET', async () => {
    ws.setConsentMode('allow');
    let p = await page();
    assert.equal(p.status, 302);
    assert.ok(new URL(p.location!).searchParams.get('code'));
    ws.setConsentMode('deny');
    p = await page();
    assert.equal(p.status, 302);
    assert.equal(new URL(p.location!).searchParams.get('error'), 'access_denied');
    ws.setConsentMode('manual');
  });

  test('unknown client or unregistered redirect_uri: 400 page, no redirect', async () => {
    let p = await page({ client_id: 'nope' });
    assert.equal(p.status, 400);
    assert.equal(p.location, null);
    p = await page({ redirect_uri: 'http://evil.example/cb' });
    assert.equal(p.status, 400);
    assert.equal(p.location, null);
    p = await page({ redirect_uri: `${REDIRECT}?extra=1` });
    assert.equal(p.status, 400);
  });

  test('a PKCE method other than S256 is refused by redirect', async () => {
    const p = await page({ code_challenge: 'abc', code_challenge_method: 'plain' });
    assert.equal(p.status, 302);
    assert.equal(new URL(p.location!).searchParams.get('error'), 'invalid_request');
  });

  test('unknown subdomain answers 404 in plain text', async () => {
    const res = await fetch(`${sb.url}/nosuchaccount/oauth/authorizations/new`);
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  });
});

describe('OAuth token endpoint', () => {
  let sb: Sandbox;
  let ws: SandboxWorkspace;
  const clock = new TestClock();
  before(async () => {
    sb = await start({ now: clock.now });
    ws = sb.createWorkspace({ subdomain: 'tokens', users: 30, ticketEvents: 50, consentMode: 'allow' });
  });
  after(() => sb.close());

  const exchange = (code: string, verifier: string | undefined, over: Record<string, unknown> = {}) =>
    postToken(sb, 'tokens', {
      grant_type: 'authorization_code',
      code,
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      ...over,
    });

  test('authorization_code answers 201 with the full token shape', async () => {
    const { verifier, challenge } = pkce();
    const code = await getCode(sb, 'tokens', { code_challenge: challenge, code_challenge_method: 'S256' });
    const r = await exchange(code, verifier);
    assert.equal(r.status, 201);
    assert.equal(r.body.token_type, 'bearer');
    assert.equal(r.body.scope, 'read');
    assert.equal(typeof r.body.access_token, 'string');
    assert.equal(typeof r.body.refresh_token, 'string');
    // A global client with enforced expiry: no expires_in unless the request sent one; the JWT says when.
    assert.equal('expires_in' in r.body, false);
    assert.equal(r.body.refresh_token_expires_in, 2_592_000);
    const [header, payload, signature] = r.body.access_token.split('.');
    assert.deepEqual(JSON.parse(Buffer.from(header, 'base64url').toString()), { typ: 'at+jwt', alg: 'RS256' });
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    assert.equal(claims.exp - claims.iat, 1800);
    assert.deepEqual(claims.scopes, ['read']);
    assert.ok(signature.length >= 40);
    assert.ok(ws.issuedTokens().includes(r.body.access_token));
    assert.ok(ws.issuedTokens().includes(r.body.refresh_token));
    const me = await api(sb, 'tokens', '/api/v2/users/me.json', r.body.access_token);
    assert.equal(me.status, 200);
    assert.equal(me.body.user.id, ws.ownerId);
    assert.equal(me.body.user.role, 'admin');
  });

  test('form-encoded bodies are accepted too', async () => {
    const code = await getCode(sb, 'tokens');
    const r = await postToken(
      sb,
      'tokens',
      { grant_type: 'authorization_code', code, client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, redirect_uri: REDIRECT },
      true,
    );
    assert.equal(r.status, 201);
  });

  test('wrong or missing PKCE verifier is invalid_grant', async () => {
    const { challenge } = pkce();
    let code = await getCode(sb, 'tokens', { code_challenge: challenge, code_challenge_method: 'S256' });
    let r = await exchange(code, pkce().verifier);
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_grant');
    code = await getCode(sb, 'tokens', { code_challenge: challenge, code_challenge_method: 'S256' });
    r = await exchange(code, undefined);
    assert.equal(r.body.error, 'invalid_grant');
  });

  test('a code is single-use', async () => {
    const { verifier, challenge } = pkce();
    const code = await getCode(sb, 'tokens', { code_challenge: challenge, code_challenge_method: 'S256' });
    assert.equal((await exchange(code, verifier)).status, 201);
    const again = await exchange(code, verifier);
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'invalid_grant');
  });

  test('a code expires after 120 s', async () => {
    const { verifier, challenge } = pkce();
    const code = await getCode(sb, 'tokens', { code_challenge: challenge, code_challenge_method: 'S256' });
    clock.advance(121_000);
    const r = await exchange(code, verifier);
    assert.equal(r.body.error, 'invalid_grant');
  });

  test('the code lifetime is configurable', async () => {
    ws.setTokenLifetimes({ codeTtlSeconds: 1 });
    const code = await getCode(sb, 'tokens');
    clock.advance(1500);
    assert.equal((await exchange(code, undefined)).body.error, 'invalid_grant');
    ws.setTokenLifetimes({ codeTtlSeconds: 120 });
  });

  test('redirect_uri must equal the authorize one', async () => {
    const code = await getCode(sb, 'tokens');
    const r = await exchange(code, undefined, { redirect_uri: CLIENT.redirectUris[1] });
    assert.equal(r.body.error, 'invalid_grant');
  });

  test('wrong secret or unknown client is 401 invalid_client', async () => {
    const code = await getCode(sb, 'tokens');
    let r = await exchange(code, undefined, { client_secret: 'wrong' });
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'invalid_client');
    assert.ok(r.body.error_description);
    r = await exchange(code, undefined, { client_id: 'unknown' });
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'invalid_client');
  });

  test('refresh rotates: the new pair works, the old access and refresh tokens are dead', async () => {
    const first = await connect(sb, 'tokens');
    const r = await postToken(sb, 'tokens', {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
    });
    assert.equal(r.status, 201);
    assert.notEqual(r.body.access_token, first.access_token);
    assert.notEqual(r.body.refresh_token, first.refresh_token);
    assert.equal((await api(sb, 'tokens', '/api/v2/users', r.body.access_token)).status, 200);
    const old = await api(sb, 'tokens', '/api/v2/users', first.access_token);
    assert.equal(old.status, 401);
    assert.deepEqual(old.body, INVALID_TOKEN);
    const spent = await postToken(sb, 'tokens', {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
    });
    assert.equal(spent.status, 400);
    assert.equal(spent.body.error, 'invalid_grant');
    assert.equal(ws.stats().refreshes >= 1, true);
  });

  test('refresh without the client secret is invalid_client', async () => {
    const t = await connect(sb, 'tokens');
    const r = await postToken(sb, 'tokens', { grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: CLIENT.clientId });
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'invalid_client');
  });

  test('expires_in requests are honoured within Zendesk bounds', async () => {
    let t = await connect(sb, 'tokens', 'read', { expires_in: 3600, refresh_token_expires_in: 700_000 });
    assert.equal(t.expires_in, 3600);
    assert.equal(t.refresh_token_expires_in, 700_000);
    t = await connect(sb, 'tokens', 'read', { expires_in: 5 });
    assert.equal(t.expires_in, 300);
  });

  test('configured short lifetimes override the bounds; expired access tokens are 401', async () => {
    ws.setTokenLifetimes({ accessTokenTtlSeconds: 2 });
    const t = await connect(sb, 'tokens', 'read', { expires_in: 3600 });
    assert.equal(t.expires_in, 2);
    assert.equal((await api(sb, 'tokens', '/api/v2/users', t.access_token)).status, 200);
    clock.advance(2100);
    const r = await api(sb, 'tokens', '/api/v2/users', t.access_token);
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, INVALID_TOKEN);
    // The refresh token still works and gives a fresh 2 s token.
    const fresh = await postToken(sb, 'tokens', {
      grant_type: 'refresh_token',
      refresh_token: t.refresh_token,
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
      expires_in: 1800,
    });
    assert.equal(fresh.status, 201);
    assert.equal(fresh.body.expires_in, 2);
    ws.setTokenLifetimes({ accessTokenTtlSeconds: 1800 });
  });

  test('access tokens without expiry: expires_in null', async () => {
    ws.setTokenLifetimes({ accessTokenTtlSeconds: null });
    const t = await connect(sb, 'tokens');
    assert.equal(t.expires_in, null);
    clock.advance(10 * 86_400_000);
    assert.equal((await api(sb, 'tokens', '/api/v2/users', t.access_token)).status, 200);
    ws.setTokenLifetimes({ accessTokenTtlSeconds: 1800 });
  });

  test('unsupported grant types are refused', async () => {
    const r = await postToken(sb, 'tokens', { grant_type: 'password', client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'unsupported_grant_type');
  });
});

describe('token introspection, revocation and authorisation', () => {
  let sb: Sandbox;
  let ws: SandboxWorkspace;
  before(async () => {
    sb = await start();
    ws = sb.createWorkspace({ subdomain: 'revoke', users: 200, ticketEvents: 100, consentMode: 'allow', exclusionSeconds: 0 });
  });
  after(() => sb.close());

  test('current.json shows the token with only its first 10 characters', async () => {
    const t = await connect(sb, 'revoke');
    const r = await api(sb, 'revoke', '/api/v2/oauth/tokens/current.json', t.access_token);
    assert.equal(r.status, 200);
    assert.equal(r.body.token.token, t.access_token.slice(0, 10));
    assert.deepEqual(r.body.token.scopes, ['read']);
    assert.equal(typeof r.body.token.id, 'number');
    assert.ok(r.body.token.created_at);
  });

  test('revoking needs the write scope: a read token is 403 and keeps working', async () => {
    const t = await connect(sb, 'revoke');
    const cur = await api(sb, 'revoke', '/api/v2/oauth/tokens/current.json', t.access_token);
    assert.equal(cur.status, 200);
    for (const path of [`/api/v2/oauth/tokens/${cur.body.token.id}.json`, '/api/v2/oauth/tokens/current.json']) {
      const del = await api(sb, 'revoke', path, t.access_token, 'DELETE');
      assert.equal(del.status, 403, path);
      assert.deepEqual(del.body, {
        error: 'Forbidden',
        description: 'You do not have access to this page. Please contact the account owner of this help desk for further help.',
      });
    }
    assert.equal((await api(sb, 'revoke', '/api/v2/users', t.access_token)).status, 200);
    // A workspace that lets any token revoke itself (revokeNeedsWrite: false).
    ws.setOAuthBehaviour({ revokeNeedsWrite: false });
    try {
      assert.equal((await api(sb, 'revoke', `/api/v2/oauth/tokens/${cur.body.token.id}.json`, t.access_token, 'DELETE')).status, 204);
      assert.equal((await api(sb, 'revoke', '/api/v2/users', t.access_token)).status, 401);
    } finally {
      ws.setOAuthBehaviour({ revokeNeedsWrite: true });
    }
  });

  test('DELETE /oauth/tokens/{id} revokes the access token and its refresh token', async () => {
    const t = await connect(sb, 'revoke', 'read write');
    const cur = await api(sb, 'revoke', '/api/v2/oauth/tokens/current.json', t.access_token);
    const del = await api(sb, 'revoke', `/api/v2/oauth/tokens/${cur.body.token.id}.json`, t.access_token, 'DELETE');
    assert.equal(del.status, 204);
    assert.equal((await api(sb, 'revoke', '/api/v2/users', t.access_token)).status, 401);
    const r = await postToken(sb, 'revoke', {
      grant_type: 'refresh_token',
      refresh_token: t.refresh_token,
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
    });
    assert.equal(r.body.error, 'invalid_grant');
  });

  test('DELETE /oauth/tokens/current.json works in the sandbox', async () => {
    const t = await connect(sb, 'revoke', 'read write');
    assert.equal((await api(sb, 'revoke', '/api/v2/oauth/tokens/current', t.access_token, 'DELETE')).status, 204);
    assert.equal((await api(sb, 'revoke', '/api/v2/users', t.access_token)).status, 401);
  });

  test('revokeAllGrants kills every token', async () => {
    const a = await connect(sb, 'revoke');
    const b = await connect(sb, 'revoke');
    ws.revokeAllGrants();
    for (const t of [a, b]) {
      assert.equal((await api(sb, 'revoke', '/api/v2/users', t.access_token)).status, 401);
      const r = await postToken(sb, 'revoke', {
        grant_type: 'refresh_token',
        refresh_token: t.refresh_token,
        client_id: CLIENT.clientId,
        client_secret: CLIENT.clientSecret,
      });
      assert.equal(r.body.error, 'invalid_grant');
    }
  });

  test('/users/me answers anonymous and dead-token callers with 200 and the anonymous user', async () => {
    let r = await api(sb, 'revoke', '/api/v2/users/me.json');
    assert.equal(r.status, 200);
    assert.equal(r.body.user.id, null);
    assert.equal(r.body.user.role, 'end-user');
    assert.equal(r.body.user.name, 'Anonymous user');
    r = await api(sb, 'revoke', '/api/v2/users/me', 'not-a-token');
    assert.equal(r.status, 200);
    assert.equal(r.body.user.id, null);
  });

  test('other endpoints answer 401 invalid_token without a valid token', async () => {
    for (const path of ['/api/v2/users.json', '/api/v2/incremental/users/cursor?start_time=0', '/api/v2/incremental/ticket_events?start_time=0']) {
      const r = await api(sb, 'revoke', path);
      assert.equal(r.status, 401, path);
      assert.deepEqual(r.body, INVALID_TOKEN);
      assert.equal((await api(sb, 'revoke', path, 'garbage')).status, 401);
    }
  });

  test('consent by a non-admin agent: /users/me says agent, exports are 403', async () => {
    const agent = ws.users().find((u) => u.role === 'agent' && u.active && !u.suspended)!;
    ws.setConsentingUser(agent.id);
    const t = await connect(sb, 'revoke');
    ws.setConsentingUser(ws.ownerId);
    const me = await api(sb, 'revoke', '/api/v2/users/me', t.access_token);
    assert.equal(me.body.user.id, agent.id);
    assert.equal(me.body.user.role, 'agent');
    const r = await api(sb, 'revoke', '/api/v2/incremental/users/cursor?start_time=0', t.access_token);
    assert.equal(r.status, 403);
    assert.equal(r.body.error, 'Forbidden');
    assert.equal((await api(sb, 'revoke', '/api/v2/incremental/ticket_events?start_time=0', t.access_token)).status, 403);
  });

  test('demoting the consenting admin makes admin-only endpoints 403 at once', async () => {
    const admin = ws.addUser({ name: 'Temp Admin', email: 'temp.admin@example.com', role: 'admin' });
    ws.setConsentingUser(admin.id);
    const t = await connect(sb, 'revoke');
    ws.setConsentingUser(ws.ownerId);
    assert.equal((await api(sb, 'revoke', '/api/v2/incremental/users/cursor?start_time=0', t.access_token)).status, 200);
    ws.setRole(admin.id, 'agent', 0);
    assert.equal((await api(sb, 'revoke', '/api/v2/incremental/users/cursor?start_time=0', t.access_token)).status, 403);
  });

  test('a malformed scope still gets a token, and calls with it are 403', async () => {
    const t = await connect(sb, 'revoke', '["read","write"]');
    assert.equal((await api(sb, 'revoke', '/api/v2/users', t.access_token)).status, 403);
    assert.equal((await api(sb, 'revoke', '/api/v2/incremental/users/cursor?start_time=0', t.access_token)).status, 403);
  });

  test('a deleted consenting user loses API access', async () => {
    const admin = ws.addUser({ name: 'Gone Admin', email: 'gone@example.com', role: 'admin' });
    ws.setConsentingUser(admin.id);
    const t = await connect(sb, 'revoke');
    ws.setConsentingUser(ws.ownerId);
    ws.deleteUser(admin.id);
    assert.equal((await api(sb, 'revoke', '/api/v2/users', t.access_token)).status, 401);
  });

  test('OAuth endpoints are not rate limited and carry no rate-limit headers', async () => {
    const res = await fetch(`${sb.url}/revoke/oauth/tokens`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(res.headers.get('x-rate-limit'), null);
  });
});

describe('demo sandbox helper', () => {
  test('starts a sandbox with a demo workspace and a client', async () => {
    const demo = await startDemoSandbox({ port: 0, users: 30, ticketEvents: 100, consentMode: 'allow' });
    try {
      assert.equal(demo.workspace.subdomain, 'demo');
      assert.equal(demo.sandbox.baseUrlTemplate, `${demo.sandbox.url}/{subdomain}`);
      const res = await fetch(
        `${demo.sandbox.url}/demo/oauth/authorizations/new?response_type=code&client_id=${demo.client.clientId}` +
          `&redirect_uri=${encodeURIComponent(demo.client.redirectUris[0]!)}&scope=read`,
        { redirect: 'manual' },
      );
      assert.equal(res.status, 302);
      assert.throws(() => demo.sandbox.workspace('missing'));
    } finally {
      await demo.sandbox.close();
    }
  });
});
