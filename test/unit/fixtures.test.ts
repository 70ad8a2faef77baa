import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { toUserRow } from '../../src/activities/syncMapping';
import { mapErrorResponse } from '../../src/zendesk/http';
import { classifyEntitlements } from '../../src/zendesk/entitlements';
import { ZendeskAuthError, ZendeskRateLimitedError, ZendeskRequestError, ZendeskTransientError } from '../../src/zendesk/errors';
import { readTicketEvents, readUsers } from '../../src/zendesk/records';
import {
  customRolesSchema,
  entitlementsResponseSchema,
  groupMembershipResponseSchema,
  groupMembershipsPageSchema,
  meResponseSchema,
  seatUserResponseSchema,
  ticketEventsPageSchema,
  usersCursorPageSchema,
} from '../../src/zendesk/schemas';
import { loadFixture, userFixtures, type FixtureResponse } from '../fixtures/zendesk';

/**
 * Every response shape the product reads, as real accounts send it (test/fixtures/zendesk, each shape with
 * its public source), goes through the client's schemas and mappings: nothing is refused, nothing unknown is
 * turned into a default.
 */

/** The stored row a user object must give, computed from the object by the contract alone. */
function expectedRow(u: Record<string, unknown>) {
  const pick = (k: string, type: 'string' | 'boolean' | 'number') => (typeof u[k] === type ? u[k] : null);
  return {
    integration_id: 'i',
    id: u.id,
    name: pick('name', 'string'),
    email: pick('email', 'string'),
    created_at: pick('created_at', 'string'),
    updated_at: pick('updated_at', 'string'),
    last_login_at: pick('last_login_at', 'string'),
    role: pick('role', 'string'),
    role_type: pick('role_type', 'number'),
    report_csv: pick('report_csv', 'boolean'),
    chat_only: pick('chat_only', 'boolean'),
    moderator: pick('moderator', 'boolean'),
    restricted_agent: pick('restricted_agent', 'boolean'),
    shared: pick('shared', 'boolean'),
    shared_agent: pick('shared_agent', 'boolean'),
    suspended: pick('suspended', 'boolean'),
    ticket_restriction: pick('ticket_restriction', 'string'),
    two_factor_auth_enabled: pick('two_factor_auth_enabled', 'boolean'),
    verified: pick('verified', 'boolean'),
    deleted: typeof u.active === 'boolean' ? !u.active : null,
  };
}

describe('users', () => {
  for (const [kind, user] of Object.entries(userFixtures())) {
    test(`${kind}: parses and maps to the stored user, every field it lacks unknown`, () => {
      const { records, skipped, anomalies } = readUsers([user]);
      assert.deepEqual(skipped, []);
      assert.deepEqual(anomalies, [], 'real records carry no surprises');
      assert.deepEqual(toUserRow('i', records[0]!), expectedRow(user));
      if (kind !== 'legacy_chat_only_agent') assert.equal(toUserRow('i', records[0]!).chat_only, null, 'no real 2024–25 record has chat_only');
    });
  }

  test('kinds: admins carry a custom_role_id and role_type 4; the deleted user is deleted; the suspended agent is suspended', () => {
    const u = userFixtures();
    assert.equal(u.admin!.role_type, 4);
    assert.notEqual(u.admin!.custom_role_id, null);
    assert.equal(toUserRow('i', readUsers([u.deleted_user]).records[0]!).deleted, true);
    assert.equal(toUserRow('i', readUsers([u.suspended_agent]).records[0]!).suspended, true);
    assert.equal(readUsers([u.light_agent]).records[0]!.role_type, 1);
    assert.equal(readUsers([u.contributor]).records[0]!.role_type, 3);
  });

  test('a users list page (recorded with its headers) parses, every user kept', () => {
    const page = loadFixture<FixtureResponse>('users-page');
    const body = page.body as { users: unknown[] };
    const { records, skipped } = readUsers(body.users);
    assert.equal(records.length, body.users.length);
    assert.deepEqual(skipped, []);
    assert.ok(page.headers['ratelimit-remaining'] !== undefined, 'the recorded rate-limit headers are there');
  });

  test('users cursor-export pages parse: cursors, end of stream, every user', () => {
    const pages = loadFixture<Record<string, unknown>>('users-export');
    for (const [name, raw] of Object.entries(pages)) {
      const page = usersCursorPageSchema.parse(raw);
      const { records, skipped } = readUsers(page.users);
      assert.deepEqual(skipped, [], name);
      assert.equal(records.length, page.users.length, name);
      assert.equal(page.end_of_stream, (raw as { end_of_stream: boolean }).end_of_stream, name);
    }
  });

  test('users/me: an admin has an id and role admin; an anonymous caller has id null', () => {
    const me = loadFixture<Record<string, unknown>>('users-me');
    const admin = meResponseSchema.parse(me.admin);
    assert.equal(admin.user.role, 'admin');
    assert.ok(typeof admin.user.id === 'number');
    assert.equal(meResponseSchema.parse(me.anonymous).user.id, null);
  });
});

describe('ticket events', () => {
  for (const name of ['without_comment_events', 'with_comment_events']) {
    test(`${name}: every event kept with its ticket, time and updater`, () => {
      const raw = loadFixture<Record<string, { ticket_events: Array<Record<string, unknown>> }>>('ticket-events')[name];
      const page = ticketEventsPageSchema.parse(raw);
      const { records, skipped } = readTicketEvents(page.ticket_events);
      assert.deepEqual(skipped, []);
      assert.deepEqual(
        records.map((e) => [e.id, e.ticket_id, e.timestamp, e.updater_id]),
        raw!.ticket_events.map((e) => [e.id, e.ticket_id, e.timestamp, e.updater_id]),
      );
    });
  }
});

describe('errors', () => {
  const errors = loadFixture<Record<string, FixtureResponse>>('errors');
  const mapped = (name: string) => {
    const e = errors[name];
    assert.ok(e, name);
    const body = typeof e.body === 'string' ? e.body : JSON.stringify(e.body);
    return mapErrorResponse(e.status, new Headers(e.headers), body, { bucket: 'account', subdomain: 'northwind-help' });
  };
  test('401 bodies (API token and OAuth) are invalid_token', () => {
    for (const name of ['unauthenticated_api_token', 'invalid_oauth_token']) {
      const err = mapped(name);
      assert.ok(err instanceof ZendeskAuthError && err.kind === 'invalid_token', name);
    }
  });
  test('403 is forbidden; a JSON 404 is a refused request, not a missing workspace', () => {
    assert.ok(mapped('forbidden') instanceof ZendeskAuthError);
    assert.ok(mapped('record_not_found') instanceof ZendeskRequestError);
  });
  test('429 waits its Retry-After', () => {
    const err = mapped('rate_limited');
    assert.ok(err instanceof ZendeskRateLimitedError);
    assert.equal(err.retryAfterMs, Number(errors.rate_limited!.headers['retry-after'] ?? errors.rate_limited!.headers['Retry-After']) * 1000);
  });
  test('the offset-depth 400 and refused export positions are refused requests (400/422) with their code', () => {
    for (const name of ['offset_pagination_too_deep', 'export_cursor_invalid', 'export_start_time_too_recent']) {
      const err = mapped(name);
      assert.ok(err instanceof ZendeskRequestError, name);
      assert.ok(err.status === 400 || err.status === 422, name);
      assert.ok(err.code, `${name}: Zendesk's code is read from either error dialect`);
    }
  });
  test('503 is transient', () => {
    assert.ok(mapped('service_unavailable') instanceof ZendeskTransientError);
  });
});

describe('entitlements', () => {
  const fixtures = loadFixture<Record<string, unknown>>('entitlements');
  test('each parses; a light agent with a Chat agent role is a paid seat, one with only viewer roles is free', () => {
    assert.deepEqual(classifyEntitlements(entitlementsResponseSchema.parse(fixtures.light_agent_with_chat_agent)), {
      seat: 'paid',
      reason: 'a Chat agent role',
    });
    assert.deepEqual(classifyEntitlements(entitlementsResponseSchema.parse(fixtures.light_agent_without_paid_role)), { seat: 'free', reason: null });
    assert.equal(classifyEntitlements(entitlementsResponseSchema.parse(fixtures.admin)).seat, 'paid');
  });
  test('inactive entitlements never count; undocumented active role names are unknown; odd shapes are tolerated', () => {
    const parse = (e: unknown) => classifyEntitlements(entitlementsResponseSchema.parse({ entitlements: e }));
    assert.deepEqual(parse({ chat: { name: 'agent', is_active: false } }), { seat: 'free', reason: null });
    assert.deepEqual(parse({ explore: { name: 'editor', is_active: true }, guide: { name: 'admin', is_active: true } }), {
      seat: 'paid',
      reason: 'a Guide admin role and an Explore editor role',
    });
    assert.equal(parse({ guide: { name: 'wizard', is_active: true } }).seat, 'unknown');
    assert.deepEqual(parse({ talk: { name: 'lead', is_active: true }, sell: 'x', chat: null }), { seat: 'free', reason: null });
  });
});

describe('custom roles and the user a reclamation reads', () => {
  test('the light-agent role is found by role_type 1 or configuration.light_agent', () => {
    const page = customRolesSchema.parse(loadFixture('custom-roles'));
    const light = page.custom_roles.find((r) => r.role_type === 1 || r.configuration?.light_agent === true);
    assert.equal(light?.id, 360000100011);
  });
  test('every recorded user kind parses as the seat record of GET/PUT users/{id}, unknowns kept as null', () => {
    for (const [kind, user] of Object.entries(userFixtures())) {
      const parsed = seatUserResponseSchema.parse({ user }).user;
      assert.equal(parsed.id, user.id, kind);
      assert.equal(parsed.custom_role_id, user.custom_role_id ?? null, kind);
      assert.equal(parsed.default_group_id, user.default_group_id ?? null, kind);
    }
  });
});

describe('group memberships (OAS shape, no public recording)', () => {
  test('the list and a created membership parse with their ids; default kept as sent; unknown fields kept', () => {
    const fixture = loadFixture<Record<string, Record<string, unknown>>>('group-memberships');
    const page = groupMembershipsPageSchema.parse(fixture.list);
    assert.equal(page.next_page, null);
    const raw = fixture.list!.group_memberships as Array<Record<string, unknown>>;
    assert.deepEqual(
      page.group_memberships.map((m) => [m.id, m.user_id, m.group_id, m.default]),
      raw.map((m) => [m.id, m.user_id, m.group_id, m.default]),
    );
    assert.equal(page.group_memberships[0]!.url, raw[0]!.url, 'unknown fields are kept');
    const created = groupMembershipResponseSchema.parse(fixture.created).group_membership;
    assert.equal(created.group_id, (fixture.created!.group_membership as Record<string, unknown>).group_id);
  });
  test('only the ids are required: a missing or odd default reads as null, never false; a missing group_id refuses the page', () => {
    const { default: _d, ...withoutDefault } = { id: 1, user_id: 2, group_id: 3, default: true };
    const page = groupMembershipsPageSchema.parse({ group_memberships: [withoutDefault, { id: 4, user_id: 2, group_id: 5, default: 'yes' }] });
    assert.deepEqual(
      page.group_memberships.map((m) => m.default),
      [null, null],
    );
    assert.equal(page.next_page, null, 'no next_page: the last page');
    assert.equal(groupMembershipsPageSchema.safeParse({ group_memberships: [{ id: 1, user_id: 2 }] }).success, false);
  });
});
