import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateWorkspace, type ZendeskUser } from '../../src/sandbox';

const NOW = Date.parse('2026-03-01T12:00:00Z');

describe('generated workspaces', () => {
  test('same seed ⇒ same users and events; another seed ⇒ different data', () => {
    const a = generateWorkspace({ subdomain: 'det', users: 500, ticketEvents: 3000, seed: 5, now: NOW });
    const b = generateWorkspace({ subdomain: 'det', users: 500, ticketEvents: 3000, seed: 5, now: NOW });
    const c = generateWorkspace({ subdomain: 'det', users: 500, ticketEvents: 3000, seed: 6, now: NOW });
    assert.deepEqual(a.users(), b.users());
    assert.deepEqual([...a.ticketEvents()], [...b.ticketEvents()]);
    assert.equal(a.ownerId, b.ownerId);
    assert.notDeepEqual(
      a.users().map((u) => u.email),
      c.users().map((u) => u.email),
    );
    assert.notDeepEqual(
      [...a.ticketEvents()].map((e) => e.timestamp),
      [...c.ticketEvents()].map((e) => e.timestamp),
    );
  });

  test('every contract field takes more than one value in a 2,000-user workspace', () => {
    const ws = generateWorkspace({ subdomain: 'variety', users: 2000, ticketEvents: 0, seed: 1, now: NOW });
    const users = ws.users();
    const fields: Array<keyof ZendeskUser> = [
      'name',
      'email',
      'created_at',
      'last_login_at',
      'role',
      'role_type',
      'report_csv',
      'moderator',
      'photo',
      'details',
      'alias',
      'restricted_agent',
      'shared',
      'shared_agent',
      'suspended',
      'ticket_restriction',
      'two_factor_auth_enabled',
      'verified',
      'active',
      'updated_at',
    ];
    for (const f of fields) {
      const values = new Set(users.map((u) => JSON.stringify(u[f])));
      assert.ok(values.size > 1, `${f} has a single value`);
    }
    const set = (f: keyof ZendeskUser, pred: (u: ZendeskUser) => boolean = () => true) => new Set(users.filter(pred).map((u) => u[f] as unknown));
    assert.deepEqual(set('role'), new Set(['end-user', 'agent', 'admin']));
    assert.deepEqual(
      set('role_type', (u) => u.role === 'end-user'),
      new Set([null]),
    );
    assert.deepEqual(
      set('role_type', (u) => u.role === 'agent'),
      new Set([null, 0, 1, 2, 3]),
    );
    // Recorded admins have role_type 4 (5: billing admin) and the account's admin role as custom_role_id.
    assert.deepEqual(
      set('role_type', (u) => u.role === 'admin'),
      new Set([4, 5]),
    );
    assert.equal(set('custom_role_id', (u) => u.role === 'admin').size, 1);
    assert.ok(!set('custom_role_id', (u) => u.role === 'admin').has(null));
    assert.deepEqual(
      set('custom_role_id', (u) => u.role === 'agent' && u.role_type !== 0),
      new Set([null]),
    );
    assert.ok(!set('custom_role_id', (u) => u.role_type === 0).has(null));
    assert.deepEqual(set('ticket_restriction'), new Set(['organization', 'groups', 'assigned', 'requested', null]));
    assert.deepEqual(set('two_factor_auth_enabled'), new Set([true, false, null]));
    assert.deepEqual(
      set('restricted_agent', (u) => u.role === 'admin'),
      new Set([false]),
    );
    // No real 2024–25 record has chat_only: the sandbox leaves it out unless legacyChatOnly.
    assert.ok(users.every((u) => !('chat_only' in u)));
    assert.ok(set('details').has(null) && set('details').has(''), 'details null as recorded, sometimes ""');
    assert.ok(users.some((u) => u.photo !== null) && users.some((u) => u.photo === null), 'some users have a photo object');
    assert.ok(
      users.some((u) => u.role === 'end-user' && u.email === null),
      'end users without an email',
    );
    assert.ok(users.every((u) => u.role === 'end-user' || u.email !== null));
    assert.ok(
      users.some((u) => u.role === 'agent' && u.suspended),
      'some agents suspended',
    );
    assert.ok(users.some((u) => u.last_login_at === null));
    assert.ok(users.some((u) => u.role !== 'end-user' && u.last_login_at !== null && Date.parse(u.last_login_at) > NOW - 86_400_000 * 7));

    const counts = { 'end-user': 0, agent: 0, admin: 0 };
    for (const u of users) counts[u.role]++;
    assert.ok(counts['end-user'] > users.length / 2);
    assert.ok(counts.agent > users.length * 0.1);
    assert.ok(counts.admin > 10);

    assert.equal(new Set(users.map((u) => u.id)).size, users.length);
    const emails = users.map((u) => u.email).filter((e) => e !== null);
    assert.equal(new Set(emails).size, emails.length);
    assert.ok(users.every((u) => u.id > 2 ** 32 && Number.isSafeInteger(u.id)));
    assert.ok(users.some((u) => u.name === `O'Brien, "Jr"`) || users.some((u) => u.name.includes("'")));
    assert.ok(
      users.some((u) => /[^\p{ASCII}]/u.test(u.name)),
      'unicode names',
    );
    const years = new Set(users.map((u) => u.created_at.slice(0, 4)));
    assert.ok(years.size >= 4, 'created_at spread over years');
    assert.ok(users.every((u) => u.updated_at >= u.created_at));

    const owner = ws.user(ws.ownerId)!;
    assert.equal(owner.role, 'admin');
    assert.equal(owner.active, true);
    assert.equal(owner.suspended, false);
  });

  test('events: past `days`, up to now-2min, bursts sharing a second, ids above 2^32', () => {
    const ws = generateWorkspace({ subdomain: 'ev', users: 200, ticketEvents: 20_000, seed: 3, now: NOW, days: 30 });
    const events = [...ws.ticketEvents()];
    assert.equal(events.length, 20_000);
    const nowSec = NOW / 1000;
    assert.ok(events.every((e) => e.timestamp <= nowSec - 120 && e.timestamp >= nowSec - 30 * 86_400 - 1));
    const perSecond = new Map<number, number>();
    for (const e of events) perSecond.set(e.timestamp, (perSecond.get(e.timestamp) ?? 0) + 1);
    const shared = [...perSecond.values()].filter((n) => n > 1).length;
    assert.ok(shared > 500, `${shared} shared seconds`);
    assert.ok(Math.max(...perSecond.values()) > 1000, 'a burst bigger than a page');
    assert.equal(new Set(events.map((e) => e.id)).size, events.length);
    assert.ok(events.every((e) => e.id > 2 ** 32 && Number.isSafeInteger(e.id)));
    const userIds = new Set(ws.users().map((u) => u.id));
    assert.ok(events.every((e) => e.updater_id === -1 || userIds.has(e.updater_id)));
  });

  test('scales to 100,000 users and 1,000,000 events', () => {
    // Typed arrays live outside the JS heap, so count both.
    const mem = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const before = mem();
    const t0 = Date.now();
    const ws = generateWorkspace({ subdomain: 'huge', users: 100_000, ticketEvents: 1_000_000, seed: 9 });
    const elapsed = Date.now() - t0;
    const grown = (mem() - before) / 1e6;
    assert.equal(ws.userCount(), 100_000);
    assert.equal(ws.ticketEventCount(), 1_000_000);
    assert.ok(elapsed < 10_000, `generation took ${elapsed} ms`);
    assert.ok(grown < 150, `memory grew by ${grown} MB`);
    const u = ws.user(ws.userIds()[54_321]!)!;
    assert.ok(u.name.length > 0);
  });

  test('legacyChatOnly serialises chat_only before user_fields, true only for chat agents', () => {
    const ws = generateWorkspace({ subdomain: 'legacy', users: 1000, ticketEvents: 0, seed: 1, now: NOW, legacyChatOnly: true });
    const users = ws.users();
    assert.ok(users.every((u) => typeof u.chat_only === 'boolean'));
    assert.ok(users.filter((u) => u.chat_only).every((u) => u.role_type === 2));
    assert.ok(users.some((u) => u.chat_only));
    const keys = Object.keys(users[0]!);
    assert.deepEqual(keys.slice(-3), ['report_csv', 'chat_only', 'user_fields']);
    // Same seed without the option: the same users, minus the field.
    const modern = generateWorkspace({ subdomain: 'legacy', users: 1000, ticketEvents: 0, seed: 1, now: NOW });
    assert.deepEqual(
      modern.users(),
      users.map(({ chat_only: _c, ...rest }) => rest),
    );
  });
});
