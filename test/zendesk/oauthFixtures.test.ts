import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createPkcePair } from '../../src/crypto/pkce';
import type { Sandbox, SandboxWorkspace } from '../../src/sandbox';
import { tokenSetFromResponse } from '../../src/zendesk/oauth';
import { currentTokenSchema, tokenResponseSchema } from '../../src/zendesk/schemas';
import { jwtClaims } from '../../src/zendesk/tokenExpiry';
import { workspaceBaseUrl } from '../../src/zendesk/workspace';
import { CLIENT, REDIRECT_URI, authorize, startTestSandbox, uniqueSubdomain } from './helpers';

/**
 * The OAuth fixtures (test/fixtures/zendesk/oauth/, shapes of what Zendesk sends, README for the evidence):
 * each parses with the client's schemas into the expected tokens, and the sandbox sends exactly their shapes
 * (key sets and value types), in each of its OAuth behaviours. A sandbox change that drifts fails here.
 */

const DIR = path.resolve(__dirname, '..', 'fixtures', 'zendesk', 'oauth');
const fixture = (name: string): any => JSON.parse(readFileSync(path.join(DIR, name), 'utf8'));
const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/** The shape of a JSON value: key sets and value types, recursively (arrays by their first element). */
function shape(value: unknown): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? ['empty'] : [shape(value[0])];
  if (typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, shape((value as Record<string, unknown>)[k])]),
    );
  return typeof value;
}

test('every token-response fixture parses and maps to tokens that always expire', () => {
  const issued = Date.parse('2026-07-01T12:00:00Z'); // the fixtures' iat
  const without = tokenSetFromResponse(tokenResponseSchema.parse(fixture('token-response-without-expires-in.json')), issued, { requestedScope: 'read' });
  assert.deepEqual(without.accessExpiresAt, new Date(issued + 1_800_000), 'from the JWT: exp − iat');
  assert.deepEqual(without.refreshExpiresAt, new Date(issued + 2_592_000_000));
  assert.equal(without.scope, 'read');
  assert.ok(without.refreshToken);
  const withIt = tokenSetFromResponse(tokenResponseSchema.parse(fixture('token-response-with-expires-in.json')), issued);
  assert.deepEqual(withIt.accessExpiresAt, new Date(issued + 1_800_000));
  const minimal = tokenSetFromResponse(tokenResponseSchema.parse(fixture('token-response-minimal.json')), issued);
  assert.deepEqual(minimal.accessExpiresAt, new Date(issued + 1_800_000), 'an opaque token nothing dates: assumed 30 minutes');
  assert.equal(minimal.refreshToken, null);
  assert.equal(minimal.refreshExpiresAt, null);
  assert.equal(currentTokenSchema.parse(fixture('current-token.json')).token.id, 223443);
});

test("the JWT fixture parts are the decoded parts of the fixtures' access token", () => {
  const [header, payload, signature] = fixture('token-response-without-expires-in.json').access_token.split('.');
  assert.deepEqual(decode(header), fixture('jwt-access-token.header.json'));
  assert.deepEqual(decode(payload), fixture('jwt-access-token.payload.json'));
  assert.ok(signature.length > 20);
  assert.deepEqual(jwtClaims(fixture('token-response-with-expires-in.json').access_token), fixture('jwt-access-token.payload.json'));
});

let sandbox: Sandbox;
before(async () => {
  sandbox = await startTestSandbox();
});
after(() => sandbox.close());

async function post(subdomain: string, body: Record<string, unknown>) {
  const res = await fetch(`${workspaceBaseUrl(sandbox.baseUrlTemplate, subdomain)}/oauth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function exchange(ws: SandboxWorkspace, extra: Record<string, unknown> = {}) {
  const { verifier, challenge } = createPkcePair();
  const code = await authorize(sandbox, ws.subdomain, challenge);
  const base = {
    grant_type: 'authorization_code',
    code,
    client_id: CLIENT.clientId,
    client_secret: CLIENT.clientSecret,
    redirect_uri: REDIRECT_URI,
    code_verifier: verifier,
  };
  return post(ws.subdomain, { ...base, ...extra });
}

const refresh = (ws: SandboxWorkspace, refreshToken: string, extra: Record<string, unknown> = {}) =>
  post(ws.subdomain, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, ...extra });

const workspace = (oauth: Parameters<SandboxWorkspace['setOAuthBehaviour']>[0] = {}) =>
  sandbox.createWorkspace({ subdomain: uniqueSubdomain('fx'), users: 5, ticketEvents: 0, consentMode: 'allow', oauth });

function assertJwtShape(accessToken: string) {
  const parts = accessToken.split('.');
  assert.equal(parts.length, 3);
  assert.deepEqual(decode(parts[0]!), fixture('jwt-access-token.header.json'));
  assert.deepEqual(shape(decode(parts[1]!)), shape(fixture('jwt-access-token.payload.json')));
}

test("the sandbox's token responses have the fixtures' shapes: without expires_in unless asked, JWT access tokens", async () => {
  const ws = workspace();
  const plain = await exchange(ws);
  assert.equal(plain.status, 201);
  assert.deepEqual(shape(plain.body), shape(fixture('token-response-without-expires-in.json')));
  assertJwtShape(plain.body.access_token);
  const asked = await exchange(ws, { expires_in: 1800, refresh_token_expires_in: 2_592_000 });
  assert.deepEqual(shape(asked.body), shape(fixture('token-response-with-expires-in.json')));
  assert.equal(asked.body.expires_in, 1800);
  // Refreshes answer the same way: expires_in only when the refresh asked for it.
  const r1 = await refresh(ws, asked.body.refresh_token);
  assert.deepEqual(shape(r1.body), shape(fixture('token-response-without-expires-in.json')));
  const r2 = await refresh(ws, r1.body.refresh_token, { expires_in: 1800 });
  assert.deepEqual(shape(r2.body), shape(fixture('token-response-with-expires-in.json')));
  assertJwtShape(r2.body.access_token);
  // The spent refresh token: the invalid_grant fixture's shape.
  const spent = await refresh(ws, r1.body.refresh_token);
  assert.equal(spent.status, 400);
  assert.deepEqual(spent.body, fixture('invalid-grant.json'));
  const wrongSecret = await post(ws.subdomain, {
    grant_type: 'refresh_token',
    refresh_token: r2.body.refresh_token,
    client_id: CLIENT.clientId,
    client_secret: 'nope',
  });
  assert.equal(wrongSecret.status, 401);
  assert.deepEqual(wrongSecret.body, fixture('invalid-client.json'));
});

test('other sandbox behaviours keep to the documented shapes: expires_in always, opaque tokens', async () => {
  const always = await exchange(workspace({ expiresIn: 'always' }));
  assert.deepEqual(shape(always.body), shape(fixture('token-response-with-expires-in.json')));
  const never = await exchange(workspace({ expiresIn: 'never' }), { expires_in: 1800 });
  assert.deepEqual(shape(never.body), shape(fixture('token-response-without-expires-in.json')));
  const opaque = await exchange(workspace({ accessTokenFormat: 'opaque' }));
  assert.deepEqual(shape(opaque.body), shape(fixture('token-response-without-expires-in.json')));
  assert.match(opaque.body.access_token, /^[0-9a-f]{64}$/);
  assert.equal(jwtClaims(opaque.body.access_token), undefined);
});

test("the sandbox's token introspection and refused revocation have the fixtures' shapes", async () => {
  const ws = workspace();
  const { body } = await exchange(ws);
  const headers = { authorization: `Bearer ${body.access_token}` };
  const base = workspaceBaseUrl(sandbox.baseUrlTemplate, ws.subdomain);
  const current = await fetch(`${base}/api/v2/oauth/tokens/current.json`, { headers });
  assert.equal(current.status, 200);
  const currentBody = (await current.json()) as { token: { id: number } };
  assert.deepEqual(shape(currentBody), shape(fixture('current-token.json')));
  const del = await fetch(`${base}/api/v2/oauth/tokens/${currentBody.token.id}.json`, { method: 'DELETE', headers });
  assert.equal(del.status, 403);
  assert.deepEqual(await del.json(), fixture('revoke-forbidden.json'));
});
