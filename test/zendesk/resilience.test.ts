import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { saveCredentials } from '../../src/db/repositories/credentials';
import type { Sandbox } from '../../src/sandbox';
import { ZendeskClient } from '../../src/zendesk/client';
import { ZendeskBadResponseError, ZendeskNotFoundError, ZendeskTransientError } from '../../src/zendesk/errors';
import { zendeskRequest } from '../../src/zendesk/http';
import { createTestIntegration, testDb } from '../helpers/db';
import { CLIENT, box, connectWorkspace, leakedSecrets, makeClient, startTestSandbox, testRateLimits, uniqueSubdomain } from './helpers';

let sandbox: Sandbox;
before(async () => {
  sandbox = await startTestSandbox();
});
after(() => sandbox.close());

const USERS_PATH = '/api/v2/incremental/users/cursor';

test('503 with Retry-After waits exactly that long (shared through the limiter) and retries', async () => {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, 'f503');
  c.ws.injectFaults([{ kind: '503', path: USERS_PATH, retryAfterSeconds: 1 }]);
  const client = makeClient(db, sandbox, c);
  const started = Date.now();
  const page = await client.incrementalUsersPage({ startTime: 0 });
  const elapsed = Date.now() - started;
  assert.equal(page.users.length, 20);
  assert.ok(elapsed >= 1_000, `waited ${elapsed} ms`);
  assert.ok(elapsed < 2_000, `waited ${elapsed} ms`);
  const stats = c.ws.stats();
  assert.equal(stats.faults['503'], 1);
  assert.equal(stats.byStatus['503'], 1);
  assert.equal(stats.byStatus['200'], 1);
  assert.deepEqual(stats.earlyRequests, { account: 0, incremental: 0, usersCursor: 0 });
  assert.equal(client.stats.requests, 2);
});

test('500, 503 without Retry-After, connection resets and malformed bodies are retried with backoff', async () => {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, 'faults');
  const client = makeClient(db, sandbox, c, { maxAttempts: 6 });
  c.ws.injectFaults([
    { kind: '500', path: USERS_PATH },
    { kind: '503', path: USERS_PATH, retryAfterSeconds: null },
    { kind: 'reset', path: USERS_PATH },
    { kind: 'malformed', path: USERS_PATH, malformed: 'truncated' },
    { kind: 'malformed', path: USERS_PATH, malformed: 'shape' },
  ]);
  const page = await client.incrementalUsersPage({ startTime: 0 });
  assert.equal(page.users.length, 20);
  assert.equal(typeof page.users[0]!.id, 'number');
  const stats = c.ws.stats();
  assert.deepEqual([stats.faults['500'], stats.faults['503'], stats.faults.reset, stats.faults.malformed], [1, 1, 1, 2]);
  assert.equal(c.ws.pendingFaults(), 0);

  c.ws.injectFaults([{ kind: 'malformed', path: '/api/v2/incremental/ticket_events', malformed: 'shape', count: 2 }]);
  const events = await client.ticketEventsPage(0, 1000, true);
  assert.equal(events.ticket_events.length, 50);
});

test('after maxAttempts the last transient or malformed error is thrown (Temporal retries the activity)', async () => {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, 'giveup');
  const client = makeClient(db, sandbox, c, { maxAttempts: 3 });
  c.ws.injectFaults([{ kind: '500', path: USERS_PATH, count: 3 }]);
  await assert.rejects(client.incrementalUsersPage({ startTime: 0 }), (err: unknown) => {
    assert.ok(err instanceof ZendeskTransientError && err.retryable && err.status === 500, String(err));
    return true;
  });
  assert.equal(c.ws.stats().faults['500'], 3);
  c.ws.injectFaults([{ kind: 'malformed', path: USERS_PATH, malformed: 'shape', count: 3 }]);
  await assert.rejects(client.incrementalUsersPage({ startTime: 0 }), (err: unknown) => {
    assert.ok(err instanceof ZendeskBadResponseError && err.retryable, String(err));
    assert.deepEqual(leakedSecrets(`${err.message} ${JSON.stringify(err)}`, c.ws.issuedTokens()), []);
    return true;
  });
});

test('every request has a timeout; a slow answer is retried', async () => {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, 'slow');
  c.ws.injectFaults([{ kind: 'slow', path: USERS_PATH, slowMs: 1_500 }]);
  const patient = makeClient(db, sandbox, c, { requestTimeoutMs: 300, maxAttempts: 1 });
  const started = Date.now();
  await assert.rejects(patient.incrementalUsersPage({ startTime: 0 }), (err: unknown) => {
    assert.ok(err instanceof ZendeskTransientError, String(err));
    assert.match(err.message, /did not answer within 300 ms/);
    return true;
  });
  assert.ok(Date.now() - started < 1_000, 'gave up at the timeout');

  c.ws.injectFaults([{ kind: 'slow', path: USERS_PATH, slowMs: 1_500 }]);
  const retrying = makeClient(db, sandbox, c, { requestTimeoutMs: 300, maxAttempts: 2 });
  const page = await retrying.incrementalUsersPage({ startTime: 0 });
  assert.equal(page.users.length, 20);
});

test('an unknown workspace is ZendeskNotFoundError', async () => {
  const db = testDb();
  const subdomain = uniqueSubdomain('nowhere');
  const { integrationId } = await createTestIntegration(db, subdomain);
  await saveCredentials(db, box, integrationId, {
    accessToken: 'token-for-nowhere',
    refreshToken: null,
    accessExpiresAt: null,
    refreshExpiresAt: null,
    scope: 'read',
  });
  const client = makeClient(db, sandbox, { integrationId, subdomain });
  await assert.rejects(client.getMe(), (err: unknown) => {
    assert.ok(err instanceof ZendeskNotFoundError, String(err));
    assert.equal(err.retryable, false);
    assert.match(err.actionableMessage, new RegExp(subdomain));
    return true;
  });
});

/** A hostile server in the workspace's place: redirects every request to another server, which counts hits. */
async function listen(handler: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

test('redirects and absolute URLs from responses are never followed', async () => {
  let elsewhereHits = 0;
  const elsewhere = await listen((_req, res) => {
    elsewhereHits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"user":{"id":1,"role":"admin"}}');
  });
  const hostile = await listen((req, res) => {
    if (req.url?.includes('/incremental/users/cursor')) {
      // A page whose after_url points elsewhere: the client must build the next request from the cursor.
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ users: [], after_cursor: 'next', after_url: `${elsewhere.url}/steal`, before_cursor: null, end_of_stream: false }));
      return;
    }
    res.writeHead(302, { location: `${elsewhere.url}/api/v2/users/me.json` }).end();
  });
  try {
    const db = testDb();
    const subdomain = uniqueSubdomain('hostile');
    const { integrationId } = await createTestIntegration(db, subdomain);
    await saveCredentials(db, box, integrationId, {
      accessToken: 'token-hostile-123',
      refreshToken: null,
      accessExpiresAt: null,
      refreshExpiresAt: null,
      scope: 'read',
    });
    const client = new ZendeskClient({
      db,
      box,
      config: { clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret, baseUrlTemplate: `${hostile.url}/{subdomain}`, requestTimeoutMs: 2_000 },
      integrationId,
      subdomain,
      rateLimits: testRateLimits(),
    });
    await assert.rejects(client.getMe(), ZendeskNotFoundError);
    const page = await client.incrementalUsersPage({ startTime: 0 });
    assert.equal(page.after_cursor, 'next');
    await client.incrementalUsersPage({ cursor: page.after_cursor });
    assert.equal(elsewhereHits, 0);
    // The low-level function refuses absolute or escaping paths before sending anything.
    for (const path of [`${elsewhere.url}/x`, '//127.0.0.1/x', '/../../x']) {
      await assert.rejects(zendeskRequest({ baseUrl: `${hostile.url}/${subdomain}`, path, timeoutMs: 1_000 }), /Refusing/);
    }
    assert.equal(elsewhereHits, 0);
  } finally {
    hostile.server.close();
    elsewhere.server.close();
    hostile.server.closeAllConnections();
    elsewhere.server.closeAllConnections();
  }
});
