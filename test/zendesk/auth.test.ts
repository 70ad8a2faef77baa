import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createDb } from '../../src/db/database';
import { loadCredentials, saveCredentials } from '../../src/db/repositories/credentials';
import type { Sandbox } from '../../src/sandbox';
import { ZendeskAuthError } from '../../src/zendesk/errors';
import { exchangeCode, refreshTokens } from '../../src/zendesk/oauth';
import { TokenProvider } from '../../src/zendesk/tokens';
import { workspaceBaseUrl } from '../../src/zendesk/workspace';
import { testDb } from '../helpers/db';
import { CLIENT, REDIRECT_URI, authorize, box, connectWorkspace, leakedSecrets, makeClient, startTestSandbox, uniqueSubdomain } from './helpers';
import { createPkcePair } from '../../src/crypto/pkce';

let sandbox: Sandbox;
before(async () => {
  sandbox = await startTestSandbox();
});
after(() => sandbox.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('code exchange stores tokens and getMe returns the consenting admin', async () => {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, 'me');
  assert.ok(c.tokens.accessToken && c.tokens.refreshToken);
  assert.equal(c.tokens.scope, 'read');
  assert.ok(c.tokens.accessExpiresAt && c.tokens.accessExpiresAt.getTime() > Date.now() + 25 * 60_000, 'default 30 min lifetime');
  assert.ok(c.tokens.refreshExpiresAt && c.tokens.refreshExpiresAt.getTime() > Date.now() + 7 * 86_400_000);

  const requests: Array<{ bucket: string; status: number }> = [];
  const client = makeClient(db, sandbox, c, { observer: { onRequest: (i) => requests.push({ bucket: i.bucket, status: i.status }) } });
  const me = await client.getMe();
  assert.equal(me.id, c.ws.ownerId);
  assert.equal(me.role, 'admin');
  assert.deepEqual(requests, [{ bucket: 'account', status: 200 }]);
  assert.deepEqual(client.stats, { requests: 1, rateLimited: 0 });
});

test('a reused or wrong code is invalid_grant; a wrong secret is invalid_client; no secret in the errors', async () => {
  const db = testDb();
  const subdomain = uniqueSubdomain('grant');
  sandbox.createWorkspace({ subdomain, users: 5, ticketEvents: 0, consentMode: 'allow' });
  const baseUrl = workspaceBaseUrl(sandbox.baseUrlTemplate, subdomain);
  const { verifier, challenge } = createPkcePair();
  const code = await authorize(sandbox, subdomain, challenge);
  const params = { baseUrl, clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret, code, redirectUri: REDIRECT_URI, codeVerifier: verifier };
  const secrets = [CLIENT.clientSecret, code, verifier];

  await assert.rejects(exchangeCode({ ...params, clientSecret: 'wrong-secret-123' }), (err: unknown) => {
    assert.ok(err instanceof ZendeskAuthError && err.kind === 'invalid_client', String(err));
    assert.deepEqual(leakedSecrets(`${err.message} ${err.stack} ${JSON.stringify(err)}`, [...secrets, 'wrong-secret-123']), []);
    return true;
  });
  const tokens = await exchangeCode(params);
  assert.ok(tokens.accessToken);
  await assert.rejects(exchangeCode(params), (err: unknown) => {
    assert.ok(err instanceof ZendeskAuthError && err.kind === 'invalid_grant', String(err));
    assert.match(err.actionableMessage, /Reconnect/);
    assert.deepEqual(leakedSecrets(`${err.message} ${err.stack} ${JSON.stringify(err)}`, [...secrets, tokens.accessToken, tokens.refreshToken!]), []);
    return true;
  });
  void db;
});

test('an access token about to expire is refreshed before the request (rotated pair saved)', async () => {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, 'expiry', { accessTokenTtlSeconds: 2 });
  assert.ok(c.tokens.accessExpiresAt!.getTime() - Date.now() < 2_500);
  const client = makeClient(db, sandbox, c, { tokenRefreshMarginMs: 500 });
  await client.getMe();
  assert.equal(c.ws.stats().refreshes, 0);
  await sleep(1_700);
  const me = await client.getMe();
  assert.equal(me.id, c.ws.ownerId);
  const stats = c.ws.stats();
  assert.equal(stats.refreshes, 1);
  assert.equal(stats.byStatus['401'] ?? 0, 0, 'refreshed before, not after, a 401');
  const stored = await loadCredentials(db, box, c.integrationId);
  assert.equal(stored!.version, 2);
  assert.notEqual(stored!.accessToken, c.tokens.accessToken);
  assert.notEqual(stored!.refreshToken, c.tokens.refreshToken);
  assert.equal(client.tokens.refreshes, 1);
});

test('a 401 invalid_token refreshes once and retries', async () => {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, 'on401', { accessTokenTtlSeconds: 1 });
  // Our row believes the token never expires, so only Zendesk's 401 can tell.
  await saveCredentials(db, box, c.integrationId, { ...c.tokens, accessExpiresAt: null });
  await sleep(1_100);
  const client = makeClient(db, sandbox, c);
  const page = await client.ticketEventsPage(0, 100);
  assert.ok(page.ticket_events.length > 0);
  const stats = c.ws.stats();
  assert.equal(stats.byStatus['401'], 1);
  assert.equal(stats.refreshes, 1);
  // getMe: Zendesk answers a dead token with an anonymous user, which counts as a 401 too.
  await saveCredentials(db, box, c.integrationId, { ...(await loadCredentials(db, box, c.integrationId))!, accessExpiresAt: null });
  await sleep(1_100);
  const fresh = makeClient(db, sandbox, c);
  assert.equal((await fresh.getMe()).id, c.ws.ownerId);
  assert.equal(c.ws.stats().refreshes, 2);
});

test('two processes refreshing the same integration at once spend the refresh token once', async () => {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, 'race');
  const poolA = createDb(process.env.DATABASE_URL!, 2);
  const poolB = createDb(process.env.DATABASE_URL!, 2);
  try {
    const options = {
      box,
      integrationId: c.integrationId,
      baseUrl: workspaceBaseUrl(sandbox.baseUrlTemplate, c.subdomain),
      clientId: CLIENT.clientId,
      clientSecret: CLIENT.clientSecret,
      timeoutMs: 5_000,
    };
    const a = new TokenProvider({ ...options, db: poolA });
    const b = new TokenProvider({ ...options, db: poolB });
    const stale = c.tokens.accessToken;
    assert.equal(await a.getAccessToken(), stale);
    assert.equal(await b.getAccessToken(), stale);
    const [ta, tb] = await Promise.all([a.forceRefresh(stale), b.forceRefresh(stale)]);
    assert.equal(ta, tb);
    assert.notEqual(ta, stale);
    assert.equal(c.ws.stats().refreshes, 1, 'exactly one refresh reached Zendesk');
    assert.equal(a.refreshes + b.refreshes, 1);
    const stored = await loadCredentials(db, box, c.integrationId);
    assert.equal(stored!.accessToken, ta);
    assert.equal(stored!.version, 2);
    // The shared token works.
    const me = await makeClient(db, sandbox, c).getMe();
    assert.equal(me.id, c.ws.ownerId);
    assert.equal(c.ws.stats().byStatus['401'] ?? 0, 0);

    // Expiry-driven refreshes race the same way.
    await saveCredentials(db, box, c.integrationId, { ...stored!, accessExpiresAt: new Date(Date.now() - 1_000) });
    const a2 = new TokenProvider({ ...options, db: poolA });
    const b2 = new TokenProvider({ ...options, db: poolB });
    const [x, y] = await Promise.all([a2.getAccessToken(), b2.getAccessToken()]);
    assert.equal(x, y);
    assert.equal(c.ws.stats().refreshes, 2);
  } finally {
    await Promise.all([poolA.destroy(), poolB.destroy()]);
  }
});

test('a revoked grant ends in ZendeskAuthError(invalid_grant) without leaking tokens', async () => {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, 'revoked');
  const client = makeClient(db, sandbox, c);
  await client.getMe();
  c.ws.revokeAllGrants();
  await assert.rejects(client.incrementalUsersPage({ startTime: 0 }), (err: unknown) => {
    assert.ok(err instanceof ZendeskAuthError, String(err));
    assert.equal(err.kind, 'invalid_grant');
    assert.equal(err.retryable, false);
    assert.match(err.actionableMessage, /revoked or expired.*Reconnect the integration with a Zendesk admin account/);
    assert.deepEqual(leakedSecrets(`${err.message} ${err.stack} ${JSON.stringify(err)}`, [...c.ws.issuedTokens(), CLIENT.clientSecret]), []);
    return true;
  });
  // The direct refresh call says the same.
  await assert.rejects(
    refreshTokens({ baseUrl: client.baseUrl, clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret, refreshToken: c.tokens.refreshToken! }),
    (err: unknown) => err instanceof ZendeskAuthError && err.kind === 'invalid_grant',
  );
});

test('a refresh that meets a 503 waits Retry-After and tries again', async () => {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, 'refresh503');
  await saveCredentials(db, box, c.integrationId, { ...c.tokens, accessExpiresAt: new Date(Date.now() - 1_000) });
  c.ws.injectFaults([{ kind: '503', path: '/oauth/tokens', retryAfterSeconds: 1 }]);
  const started = Date.now();
  const me = await makeClient(db, sandbox, c).getMe();
  assert.equal(me.id, c.ws.ownerId);
  assert.ok(Date.now() - started >= 1_000);
  assert.equal(c.ws.stats().faults['503'], 1);
  assert.equal(c.ws.stats().refreshes, 1);
});

test('revokeAccess says what Zendesk did: revoked, already invalid, refused (403 for a read token), nothing stored', async () => {
  const db = testDb();
  // An account that lets a read token revoke itself.
  const c = await connectWorkspace(db, sandbox, 'revoke', { oauth: { revokeNeedsWrite: false } });
  const client = makeClient(db, sandbox, c);
  assert.deepEqual(await client.revokeAccess(), { outcome: 'revoked' });
  const stats = c.ws.stats();
  assert.equal(stats.revocations, 1);
  assert.equal(stats.byEndpoint['DELETE /api/v2/oauth/tokens/:id'], 1);
  assert.equal(c.ws.grants()[0]!.revoked, true);
  assert.deepEqual(await client.revokeAccess(), { outcome: 'already_invalid' });
  // An expired access token does not hide a live grant: it is refreshed, then revoked.
  const expired = await connectWorkspace(db, sandbox, 'revoke3', { oauth: { revokeNeedsWrite: false } });
  await saveCredentials(db, box, expired.integrationId, { ...expired.tokens, accessExpiresAt: new Date(Date.now() - 1_000) });
  assert.deepEqual(await makeClient(db, sandbox, expired).revokeAccess(), { outcome: 'revoked' });
  assert.equal(expired.ws.stats().refreshes, 1);
  assert.equal(expired.ws.grants()[0]!.revoked, true);
  // Zendesk's default: revoking is a DELETE, which needs the write scope; the worker holds read. Refused, grant live.
  const readOnly = await connectWorkspace(db, sandbox, 'revoke403');
  assert.deepEqual(await makeClient(db, sandbox, readOnly).revokeAccess(), { outcome: 'refused', status: 403 });
  assert.equal(readOnly.ws.grants()[0]!.revoked, false);
  assert.equal(readOnly.ws.stats().revocations, 0);
  assert.equal(readOnly.ws.stats().byStatus['403'], 1);
  // No stored credentials: nothing to do.
  const other = await connectWorkspace(db, sandbox, 'revoke2');
  await db.deleteFrom('oauth_credentials').where('integration_id', '=', other.integrationId).execute();
  assert.equal(await makeClient(db, sandbox, other).revokeAccess(), undefined);
});
