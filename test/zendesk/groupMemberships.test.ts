// The client's group-membership calls against the sandbox: every page of a user's memberships, a created
// membership, and the 422 of an existing one (which the undo resolves by reading the list again).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { saveCredentials } from '../../src/db/repositories/credentials';
import type { Sandbox } from '../../src/sandbox';
import { ZendeskRequestError } from '../../src/zendesk/errors';
import { testDb } from '../helpers/db';
import { box, connectWorkspace, makeClient, startTestSandbox } from './helpers';

let sandbox: Sandbox;
before(async () => {
  sandbox = await startTestSandbox();
});
after(() => sandbox.close());

async function connectWithWrite(prefix: string) {
  const db = testDb();
  const c = await connectWorkspace(db, sandbox, prefix, { users: 60, rateLimits: false });
  // The admin's grant with write access, as a reclaim connection holds.
  const accessToken = c.ws.issueAccessToken({ scope: 'read write' });
  await saveCredentials(db, box, c.integrationId, { accessToken, refreshToken: null, accessExpiresAt: null, refreshExpiresAt: null, scope: 'read write' });
  return { ...c, client: makeClient(db, sandbox, c) };
}

test('listUserGroupMemberships reads every page (100 a page) and keeps what it does not model', async () => {
  const { ws, client } = await connectWithWrite('gm-list');
  const agent = ws.users().find((u) => u.active && u.role === 'agent')!;
  const seed = ws.memberSeed(agent.id)!;
  const generated = ws.groupIdsOf(agent.id);
  for (let g = 1; g <= 150; g++) ws.memberships.add(seed, 8_000_000 + g, Date.now());
  const before = client.stats.requests;
  const all = await client.listUserGroupMemberships(agent.id);
  assert.equal(all.length, generated.length + 150);
  assert.equal(new Set(all.map((m) => m.id)).size, all.length, 'no membership twice');
  assert.deepEqual(
    all.map((m) => m.group_id).sort((a, b) => a - b),
    ws.groupIdsOf(agent.id),
  );
  assert.ok(all.every((m) => m.user_id === agent.id && typeof m.default === 'boolean' && typeof m.url === 'string'));
  assert.equal(client.stats.requests - before, 2, 'two pages');
  const endUser = ws.users().find((u) => u.active && u.role === 'end-user')!;
  assert.deepEqual(await client.listUserGroupMemberships(endUser.id), []);
});

test('createGroupMembership adds the agent to the group; a second time Zendesk answers 422', async () => {
  const { ws, client } = await connectWithWrite('gm-create');
  const agent = ws.users().find((u) => u.active && u.role === 'agent')!;
  const created = await client.createGroupMembership(agent.id, 9_100_001);
  assert.equal(created.group_id, 9_100_001);
  assert.equal(created.user_id, agent.id);
  assert.ok(ws.groupIdsOf(agent.id).includes(9_100_001));
  await assert.rejects(client.createGroupMembership(agent.id, 9_100_001), (err: unknown) => err instanceof ZendeskRequestError && err.status === 422);
  assert.equal(ws.membershipChanges(agent.id).length, 1);
});
