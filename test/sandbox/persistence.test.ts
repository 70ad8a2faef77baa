import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { api, CLIENT, connect, postToken, start, TestClock } from './helpers';

/**
 * A sandbox with `statePath` (what `npm run dev` uses) keeps its workspaces and the tokens it issued
 * across a restart: the connected product keeps syncing, refresh rotation carries on.
 */
const dir = mkdtempSync(path.join(tmpdir(), 'sandbox-state-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a sandbox restored from its state file accepts the tokens issued before and keeps rotating them', async () => {
  const statePath = path.join(dir, 'sandbox.json');
  const clock = new TestClock();
  const first = await start({ statePath, now: clock.now });
  const ws = first.createWorkspace({ subdomain: 'kept', users: 40, ticketEvents: 300, seed: 7, consentMode: 'allow' });
  const users = ws.users();
  const events = [...ws.ticketEvents()];
  const tokens = await connect(first, 'kept');
  // A refresh before the restart: the first pair is dead, the second is the live one.
  const rotated = await postToken(first, 'kept', {
    grant_type: 'refresh_token',
    refresh_token: tokens.refresh_token,
    client_id: CLIENT.clientId,
    client_secret: CLIENT.clientSecret,
  });
  assert.equal(rotated.status, 201);
  await first.close();

  assert.ok(existsSync(statePath), 'the state is saved on close');
  assert.equal(statSync(statePath).mode & 0o777, 0o600, 'the state file is private');
  assert.deepEqual(readFileSync(statePath, 'utf8').includes(tokens.access_token), false, 'dead tokens are not kept');

  clock.advance(5 * 60_000);
  const second = await start({ statePath, now: clock.now });
  try {
    assert.ok(second.hasWorkspace('kept'));
    const restored = second.workspace('kept');
    // Same data: regenerated from the same seed and generation instant (URLs, photos' too, follow the port).
    assert.deepEqual(restored.users(), JSON.parse(JSON.stringify(users).split(first.url).join(second.url)));
    assert.deepEqual([...restored.ticketEvents()], events);
    assert.equal(restored.consentMode, 'allow');

    // The live access token works; the one rotated away before the restart does not.
    const me = await api(second, 'kept', '/api/v2/users/me.json', rotated.body.access_token);
    assert.equal(me.status, 200);
    assert.equal(me.body.user.id, ws.ownerId);
    const incremental = await api(second, 'kept', '/api/v2/incremental/users/cursor.json?start_time=0', rotated.body.access_token);
    assert.equal(incremental.status, 200, incremental.text);
    assert.equal((await api(second, 'kept', '/api/v2/users/me.json', tokens.access_token)).body.user.id, null);
    assert.equal(
      (
        await postToken(second, 'kept', {
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token,
          client_id: CLIENT.clientId,
          client_secret: CLIENT.clientSecret,
        })
      ).status,
      400,
    );

    // Rotation carries on: the kept refresh token gives a new pair and dies.
    const next = await postToken(second, 'kept', {
      grant_type: 'refresh_token',
      refresh_token: rotated.body.refresh_token,
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
    });
    assert.equal(next.status, 201, JSON.stringify(next.body));
    assert.equal((await api(second, 'kept', '/api/v2/users/me.json', next.body.access_token)).body.user.id, ws.ownerId);
    assert.equal((await api(second, 'kept', '/api/v2/users/me.json', rotated.body.access_token)).body.user.id, null);
    const again = await postToken(second, 'kept', {
      grant_type: 'refresh_token',
      refresh_token: rotated.body.refresh_token,
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
    });
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'invalid_grant');
    // Token ids keep increasing across the restart (introspection by id finds the new token).
    const current = await api(second, 'kept', '/api/v2/oauth/tokens/current.json', next.body.access_token);
    assert.equal(current.status, 200, current.text);
    assert.equal(restored.grants().filter((g) => !g.revoked).length, 1);
  } finally {
    await second.close();
  }

  // A third start sees the rotation done after the restart (saved shortly after the change, and on close).
  const third = await start({ statePath, now: clock.now });
  try {
    const saved = readFileSync(statePath, 'utf8');
    assert.ok(!saved.includes(rotated.body.refresh_token), 'the rotated-away refresh token is gone from the state');
    assert.equal(third.workspace('kept').grants().length, 1);
  } finally {
    await third.close();
  }
});

test('changes are saved without waiting for close', async () => {
  const statePath = path.join(dir, 'debounced.json');
  const sb = await start({ statePath });
  try {
    sb.createWorkspace({ subdomain: 'soon', users: 5, ticketEvents: 5, consentMode: 'allow' });
    const tokens = await connect(sb, 'soon');
    const deadline = Date.now() + 5_000;
    while (!(existsSync(statePath) && readFileSync(statePath, 'utf8').includes(tokens.refresh_token))) {
      assert.ok(Date.now() < deadline, 'the state was saved after the change');
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await sb.close();
  }
});

test('an unreadable state file is set aside and the sandbox starts empty', async () => {
  const statePath = path.join(dir, 'broken.json');
  writeFileSync(statePath, '{"version": 1, "workspaces": [');
  const sb = await start({ statePath });
  try {
    assert.deepEqual(sb.workspaces(), []);
    assert.ok(
      readdirSync(dir).some((f) => f.startsWith('broken.json.unreadable-')),
      'the unreadable file is kept aside',
    );
  } finally {
    await sb.close();
  }
});
