import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_STALLED_PAGES, nextTicketEventsStart, ProgressGuard, toUserRow, uniqueUserRows } from '../../src/activities/syncMapping';
import { ZendeskStalledExportError } from '../../src/zendesk/errors';
import { readTicketEvents, readUsers } from '../../src/zendesk/records';
import { usersCursorPageSchema } from '../../src/zendesk/schemas';

/**
 * The tolerant reader (src/zendesk/records.ts, schemas.ts): only what the worker cannot do without is
 * required of a record; a broken record is quarantined, never the reason its page is refused.
 */

/** An admin as live accounts send it in 2025 (NangoHQ recording): no chat_only, custom_role_id set, nulls. */
const REAL_ADMIN = {
  id: 32763206658001,
  url: 'https://example.zendesk.com/api/v2/users/32763206658001.json',
  name: 'Ada Admin',
  email: 'ada@example.com',
  created_at: '2025-02-18T09:01:54Z',
  updated_at: '2025-03-18T08:43:48Z',
  time_zone: 'Africa/Nairobi',
  iana_time_zone: 'Africa/Nairobi',
  phone: null,
  shared_phone_number: null,
  photo: null,
  locale_id: 1,
  locale: 'en-US',
  organization_id: 32763218847001,
  role: 'admin',
  verified: true,
  external_id: null,
  tags: [],
  alias: null,
  active: true,
  shared: false,
  shared_agent: false,
  last_login_at: '2025-03-18T08:43:48Z',
  two_factor_auth_enabled: null,
  signature: null,
  details: null,
  notes: null,
  role_type: 4,
  custom_role_id: 32763207027001,
  moderator: true,
  ticket_restriction: null,
  only_private_comments: false,
  restricted_agent: false,
  suspended: false,
  default_group_id: 32763192336001,
  report_csv: true,
  user_fields: {},
};

describe('users', () => {
  test('a real-shaped admin without chat_only is read, chat_only unknown (null), never false', () => {
    const { records, skipped } = readUsers([REAL_ADMIN]);
    assert.deepEqual(skipped, []);
    assert.equal(records.length, 1);
    const row = toUserRow('i', records[0]!);
    assert.equal(row.chat_only, null);
    assert.equal(row.role, 'admin');
    assert.equal(row.role_type, 4);
    assert.equal(row.two_factor_auth_enabled, null);
    assert.equal(row.deleted, false);
  });

  test('only the id is required: a record with nothing else is kept with every field unknown', () => {
    const { records, skipped } = readUsers([{ id: 7 }]);
    assert.deepEqual(skipped, []);
    const row = toUserRow('i', records[0]!);
    for (const [key, value] of Object.entries(row)) {
      if (key === 'integration_id' || key === 'id') continue;
      assert.equal(value, null, `${key} is unknown`);
    }
  });

  test('unusable records are quarantined with position and id only; the good ones of the page are kept', () => {
    const entries: unknown[] = [
      REAL_ADMIN,
      { ...REAL_ADMIN, id: undefined, name: 'Secret Name' },
      { ...REAL_ADMIN, id: '123' },
      { ...REAL_ADMIN, id: 2 ** 60 },
      'not an object',
      null,
      [1, 2],
      { ...REAL_ADMIN, id: 5, name: 'Good Two' },
    ];
    const { records, skipped } = readUsers(entries);
    assert.deepEqual(
      records.map((r) => r.id),
      [REAL_ADMIN.id, 5],
    );
    assert.deepEqual(
      skipped.map((s) => [s.position, s.id]),
      [
        [1, null],
        [2, '123'],
        [3, String(2 ** 60)],
        [4, null],
        [5, null],
        [6, null],
      ],
    );
    assert.ok(!JSON.stringify(skipped).includes('Secret Name'), 'no personal data in the quarantine report');
  });

  test('undocumented enum values are kept as sent and reported; wrong types read as unknown and are reported', () => {
    const { records, anomalies } = readUsers([{ ...REAL_ADMIN, role: 'superhero', role_type: 9, ticket_restriction: 'team', suspended: 'no', verified: 1 }]);
    const u = records[0];
    assert.equal(u!.role, 'superhero');
    assert.equal(u!.role_type, 9);
    assert.equal(u!.ticket_restriction, 'team');
    assert.equal(u!.suspended, null);
    assert.equal(u!.verified, null);
    assert.deepEqual(anomalies.map((a) => `${a.field}:${a.kind}`).sort(), [
      'role:unknown_value',
      'role_type:unknown_value',
      'suspended:wrong_type',
      'ticket_restriction:unknown_value',
      'verified:wrong_type',
    ]);
  });

  test('NUL characters are removed from strings (PostgreSQL text cannot hold them)', () => {
    const u = readUsers([{ ...REAL_ADMIN, name: 'A\u0000B', email: '\u0000x@y' }]).records[0];
    assert.equal(u!.name, 'AB');
    assert.equal(u!.email, 'x@y');
  });

  test('a duplicate id within one page becomes one row: the later copy, unless the earlier is newer', () => {
    const rows = readUsers([
      { ...REAL_ADMIN, id: 1, name: 'first', updated_at: '2025-01-01T00:00:00Z' },
      { ...REAL_ADMIN, id: 2, name: 'other' },
      { ...REAL_ADMIN, id: 1, name: 'second', updated_at: '2025-01-02T00:00:00Z' },
      { ...REAL_ADMIN, id: 3, name: 'newer', updated_at: '2025-02-01T00:00:00Z' },
      { ...REAL_ADMIN, id: 3, name: 'older', updated_at: '2025-01-01T00:00:00Z' },
    ]).records.map((u) => toUserRow('i', u));
    const unique = uniqueUserRows(rows);
    assert.deepEqual(
      unique.map((r) => [r.id, r.name]),
      [
        [1, 'second'],
        [2, 'other'],
        [3, 'newer'],
      ],
    );
  });

  test('a users export page needs its list; without end_of_stream it ends where no cursor is given', () => {
    assert.equal(usersCursorPageSchema.safeParse({ after_cursor: 'x', end_of_stream: false }).success, false);
    assert.equal(usersCursorPageSchema.parse({ users: [], after_cursor: null }).end_of_stream, true);
    assert.equal(usersCursorPageSchema.parse({ users: [], after_cursor: 'x', end_of_stream: 'maybe' }).end_of_stream, false);
  });
});

describe('ticket events', () => {
  test('only id, ticket_id, timestamp and updater_id are required; created_at, via and child_events may be anything', () => {
    const { records, skipped } = readTicketEvents([
      { id: 1, ticket_id: 2, timestamp: 1_700_000_000, updater_id: 5 },
      { id: 2, ticket_id: 2, timestamp: 1_700_000_001, updater_id: -1, created_at: 'not a date', via: { channel: 'web' }, child_events: 'odd' },
      { id: 3, ticket_id: 2, updater_id: 5 },
      { ticket_id: 2, timestamp: 1_700_000_002, updater_id: 5 },
      42,
    ]);
    assert.deepEqual(
      records.map((e) => e.id),
      [1, 2],
    );
    assert.deepEqual(
      skipped.map((s) => [s.position, s.id]),
      [
        [2, '3'],
        [3, null],
        [4, null],
      ],
    );
    assert.match(skipped[0]!.reason, /timestamp/);
  });

  test('the next start never moves backwards, and a page ending before its start is no progress', () => {
    assert.equal(nextTicketEventsStart(100, { end_time: 90, end_of_stream: false, count: 1000 }), 100);
    assert.equal(nextTicketEventsStart(100, { end_time: 100, end_of_stream: false, count: 1000 }), 101);
    assert.equal(nextTicketEventsStart(100, { end_time: 150, end_of_stream: false, count: 1000 }), 150);
    assert.equal(nextTicketEventsStart(100, { end_time: 0, end_of_stream: true, count: 0 }), 100);
  });
});

test('an export that stops moving ends after a bounded number of pages with a clear error', () => {
  const guard = new ProgressGuard('users export');
  guard.check(true);
  for (let i = 1; i < MAX_STALLED_PAGES; i++) guard.check(false);
  guard.check(true); // moving again resets the count
  for (let i = 1; i < MAX_STALLED_PAGES; i++) guard.check(false);
  assert.throws(
    () => guard.check(false),
    (err: unknown) => err instanceof ZendeskStalledExportError && /users export did not move forward/.test(err.message),
  );
});
