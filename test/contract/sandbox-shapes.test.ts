// Contract: what the sandbox sends has the shape of real Zendesk responses (test/fixtures/zendesk, see its
// README for the recording or document behind each). Values differ; key sets, JSON types, nullability and
// nesting must not. When this fails, the sandbox drifted from reality (or a fixture changed without it).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox, SandboxWorkspace } from '../../src/sandbox';
import { loadFixture, userFixtures, type FixtureResponse } from '../fixtures/zendesk';
import { api, connect, start, type ApiResult } from '../sandbox/helpers';
import { compareShapes, shapeDifferences, shapeOf, type ShapeOptions } from './shape';

type Json = Record<string, unknown>;

const FIXTURE_USERS = userFixtures();
/** Every user kind of 2024–25 (the legacy chat_only kind is checked on its own). */
const MODERN_USERS = Object.entries(FIXTURE_USERS)
  .filter(([k]) => k !== 'legacy_chat_only_agent')
  .map(([, u]) => u);
const USER_KEY_ORDER = Object.keys(FIXTURE_USERS.admin!);
/** Keys whose values are the account's own (custom user fields): only "an object" is compared. */
const USER_OPTS: ShapeOptions = { open: ['user_fields'] };

/** Sandbox users of a kind, and the fixtures of that kind. */
const KINDS: Array<{ kind: string; fixtures: string[]; match: (u: Json) => boolean }> = [
  { kind: 'admin and billing admin', fixtures: ['admin', 'admin_with_photo', 'billing_admin'], match: (u) => u.role === 'admin' },
  { kind: 'agent without role type', fixtures: ['agent', 'suspended_agent'], match: (u) => u.role === 'agent' && u.role_type === null },
  { kind: 'agent with a custom role', fixtures: ['agent_custom_role'], match: (u) => u.role === 'agent' && u.role_type === 0 },
  { kind: 'light agent', fixtures: ['light_agent'], match: (u) => u.role_type === 1 },
  { kind: 'chat agent', fixtures: ['chat_agent'], match: (u) => u.role_type === 2 },
  { kind: 'contributor', fixtures: ['contributor'], match: (u) => u.role_type === 3 },
  {
    kind: 'end user',
    fixtures: ['end_user', 'end_user_with_photo', 'end_user_without_email', 'end_user_with_contact_details', 'end_user_with_empty_strings', 'deleted_user'],
    match: (u) => u.role === 'end-user',
  },
];
/** The fields that tell the kinds apart: their types must be those of the kind's own fixtures. */
const KIND_FIELDS = ['role', 'role_type', 'custom_role_id', 'email'];

const pick = (u: Json, keys: string[]) => Object.fromEntries(keys.filter((k) => k in u).map((k) => [k, u[k]]));

function assertNoDrift(diffs: string[], what: string): void {
  assert.deepEqual(diffs, [], `${what} drifted from the real shape:\n  ${diffs.join('\n  ')}`);
}

/** The fixture's headers the sandbox must send too, with the format of the recorded value. */
function assertHeaders(res: ApiResult, expected: Record<string, string>, names: string[]): void {
  for (const name of names) {
    const want = expected[name];
    const got = res.headers.get(name);
    assert.ok(got !== null, `header ${name} missing (recorded: ${want})`);
    const format = /^\d+$/.test(want!) ? /^\d+$/ : /^total=\d+; remaining=\d+; resets=\d+$/.test(want!) ? /^total=\d+; remaining=\d+; resets=\d+$/ : null;
    if (format) assert.match(got, format, `header ${name}`);
  }
}

describe('sandbox responses have the shape of real Zendesk responses', () => {
  let sb: Sandbox;
  let ws: SandboxWorkspace;
  let token: string;
  let exported: Json[];
  let exportPages: ApiResult[];
  before(async () => {
    sb = await start();
    ws = sb.createWorkspace({
      subdomain: 'contract',
      users: 2500,
      ticketEvents: 3000,
      seed: 2026,
      consentMode: 'allow',
      accountLimit: 100_000,
      incrementalLimit: 1000,
      usersCursorLimit: 1000,
    });
    token = (await connect(sb, 'contract')).access_token;
    // The whole users export: every generated user, as a sync reads them.
    exportPages = [await api(sb, 'contract', '/api/v2/incremental/users/cursor?start_time=0', token)];
    while (!exportPages[exportPages.length - 1]!.body.end_of_stream) {
      const last = exportPages[exportPages.length - 1]!.body;
      exportPages.push(await api(sb, 'contract', `/api/v2/incremental/users/cursor?cursor=${encodeURIComponent(last.after_cursor)}`, token));
    }
    exported = exportPages.flatMap((p) => p.body.users as Json[]);
  });
  after(() => sb.close());
  const get = (path: string, t: string = token) => api(sb, 'contract', path, t);

  test('every user kind is present, so no comparison below is vacuous', () => {
    assert.equal(exported.length, 2500);
    for (const k of KINDS) assert.ok(exported.filter(k.match).length > 0, k.kind);
    assert.ok(
      exported.some((u) => u.suspended === true && u.role === 'agent'),
      'a suspended agent',
    );
    assert.ok(
      exported.some((u) => u.active === false),
      'a deleted user',
    );
  });

  test('users: every field, type and null of the recordings, and nothing else (no chat_only)', () => {
    assertNoDrift(shapeDifferences(MODERN_USERS, exported, 'exact', USER_OPTS), 'the users population');
    for (const u of exported) assert.deepEqual(Object.keys(u), USER_KEY_ORDER, `key order of user ${u.id}`);
  });

  for (const k of KINDS) {
    test(`users of kind "${k.kind}": the shape of every such user, and the kind's own field types`, () => {
      const users = exported.filter(k.match);
      assertNoDrift(shapeDifferences(MODERN_USERS, users, 'subset', USER_OPTS), k.kind);
      const own = k.fixtures.map((f) => pick(FIXTURE_USERS[f]!, KIND_FIELDS));
      assertNoDrift(
        shapeDifferences(
          own,
          users.map((u) => pick(u, KIND_FIELDS)),
          'subset',
        ),
        `${k.kind} (${KIND_FIELDS.join(', ')})`,
      );
    });
  }

  test('users cursor page: envelope, meta with has_more, links, and the recorded headers', async () => {
    const fixture = loadFixture<FixtureResponse>('users-page');
    // The recorded request, misspelt parameter included (it produced the X-Zendesk-API-Warn header).
    const res = await get('/api/v2/users?page[size]=100&roles=agent,admin');
    assert.equal(res.status, fixture.status);
    const opts: ShapeOptions = { skip: ['users[]'] };
    assertNoDrift(shapeDifferences([fixture.body], [res.body], 'exact', opts), 'the users page envelope');
    assertNoDrift(shapeDifferences(MODERN_USERS, res.body.users, 'subset', USER_OPTS), 'users of the users page');
    // Headers a client reads. Not emulated, on purpose: transport/CDN headers, and the gateway's
    // x-ratelimit-* trio (an undocumented 200/min limit whose reset is an epoch; see docs/zendesk.md).
    assertHeaders(res, fixture.headers, [
      'content-type',
      'x-rate-limit',
      'x-rate-limit-remaining',
      'ratelimit-limit',
      'ratelimit-remaining',
      'ratelimit-reset',
      'x-zendesk-private-zendesk-ratelimit-api-requests',
      'x-zendesk-api-warn',
    ]);
    assert.equal(res.headers.get('x-zendesk-api-warn'), fixture.headers['x-zendesk-api-warn']);
  });

  test('users show_many: the OAS envelope, recorded users, deleted ones only on request, the 400 past 100 ids', async () => {
    const fixture = loadFixture<Record<string, FixtureResponse>>('users-show-many');
    const deleted = exported.find((u) => u.active === false)!;
    const live = exported.filter((u) => u.active === true).slice(0, 40);
    const ids = [...live.map((u) => u.id), deleted.id, 1].join(',');
    const opts: ShapeOptions = { skip: ['users[]'] };
    for (const [kind, query] of [
      ['found', `ids=${ids}`],
      ['with_deleted', `ids=${ids}&include_deleted=true`],
    ] as const) {
      const res = await get(`/api/v2/users/show_many?${query}`);
      assert.equal(res.status, fixture[kind]!.status, kind);
      assertNoDrift(shapeDifferences([fixture[kind]!.body], [res.body], 'exact', opts), `the show_many envelope (${kind})`);
      assertNoDrift(shapeDifferences(MODERN_USERS, res.body.users, 'subset', USER_OPTS), `users of show_many (${kind})`);
      for (const u of res.body.users as Json[]) assert.deepEqual(Object.keys(u), USER_KEY_ORDER);
      assertHeaders(res, fixture[kind]!.headers, Object.keys(fixture[kind]!.headers));
      assert.equal(
        (res.body.users as Json[]).some((u) => u.id === deleted.id),
        kind === 'with_deleted',
      );
    }
    const tooMany = await get(`/api/v2/users/show_many?ids=${Array.from({ length: 101 }, (_, i) => i + 1).join(',')}`);
    assert.equal(tooMany.status, fixture.too_many_ids!.status);
    assertNoDrift(shapeDifferences([fixture.too_many_ids!.body], [tooMany.body], 'exact'), 'the show_many 400');
    assert.equal(tooMany.body.error, (fixture.too_many_ids!.body as Json).error);
  });

  test('users count: {count: {refreshed_at, value}}, exact or as a refreshing estimate', async () => {
    const fixture = loadFixture<Record<string, FixtureResponse>>('users-count');
    const exact = await get('/api/v2/users/count?role[]=agent&role[]=admin');
    assert.equal(exact.status, fixture.exact!.status);
    assertNoDrift(shapeDifferences([fixture.exact!.body], [exact.body], 'exact'), 'users/count');
    assert.deepEqual(Object.keys(exact.body.count), Object.keys((fixture.exact!.body as { count: Json }).count));
    assertHeaders(exact, fixture.exact!.headers, Object.keys(fixture.exact!.headers));
    ws.setUserCountEstimate({ value: 100_000, refreshedAt: null });
    try {
      const refreshing = await get('/api/v2/users/count');
      assertNoDrift(shapeDifferences([fixture.refreshing!.body], [refreshing.body], 'exact'), 'users/count while refreshed');
    } finally {
      ws.setUserCountEstimate(null);
    }
  });

  test('users export: first, later and empty pages', async () => {
    const fixture = loadFixture<Record<string, Json>>('users-export');
    const opts: ShapeOptions = { skip: ['users[]'] };
    assert.ok(exportPages.length >= 2);
    assertNoDrift(shapeDifferences([fixture.first_page], [exportPages[0]!.body], 'exact', opts), 'the first export page');
    assertNoDrift(
      shapeDifferences(
        [fixture.next_page],
        exportPages.slice(1).map((p) => p.body),
        'exact',
        opts,
      ),
      'a later export page',
    );
    const last = exportPages[exportPages.length - 1]!.body;
    const empty = await get(`/api/v2/incremental/users/cursor?cursor=${encodeURIComponent(last.after_cursor)}`);
    assertNoDrift(shapeDifferences([fixture.empty_page], [empty.body], 'exact', opts), 'the empty export page');
    // The OAS cursor style: base64 of "<epoch>.<fraction>||<id>|…"; URLs without .json.
    assert.match(Buffer.from(last.after_cursor, 'base64').toString('utf8'), /^\d+\.\d+\|\|\d+\|/);
    assert.doesNotMatch(last.after_url, /\.json\?/);
  });

  for (const kind of ['without_comment_events', 'with_comment_events'] as const) {
    test(`ticket events ${kind.replace(/_/g, ' ')}: envelope, events and each kind of child event`, async () => {
      const fixture = loadFixture<Record<string, Json>>('ticket-events')[kind];
      const include = kind === 'with_comment_events' ? '&include=comment_events' : '';
      const pages: Json[] = [];
      let page = (await get(`/api/v2/incremental/ticket_events?start_time=0&per_page=1000${include}`)).body as Json;
      pages.push(page);
      while (!page.end_of_stream && pages.length < 10) {
        page = (await get(page.next_page as string)).body as Json;
        pages.push(page);
      }
      assertNoDrift(shapeDifferences([fixture], pages, 'subset', { skip: ['ticket_events[]'] }), 'the ticket-events envelope');
      const opts: ShapeOptions = { discriminators: { 'child_events[]': 'event_type' } };
      const events = pages.flatMap((p) => p.ticket_events as Json[]);
      assertNoDrift(compareShapes(shapeOf(fixture!.ticket_events as Json[], opts), shapeOf(events, opts), 'exact', opts), 'ticket events');
    });
  }

  test('users/me: an admin gets the user plus authenticity_token; an anonymous caller the anonymous user', async () => {
    const fixture = loadFixture<Record<string, Json>>('users-me');
    const me = await get('/api/v2/users/me');
    const expected = MODERN_USERS.map((u) => ({ user: { ...u, authenticity_token: 'x' } }));
    assertNoDrift(shapeDifferences(expected, [me.body], 'subset', { open: ['user.user_fields'] }), 'users/me (admin)');
    assert.deepEqual(Object.keys(me.body.user), Object.keys(fixture.admin!.user as Json));
    assert.equal(me.body.user.role, 'admin');
    const anonymous = await api(sb, 'contract', '/api/v2/users/me');
    assert.equal(anonymous.status, 200);
    assertNoDrift(shapeDifferences([fixture.anonymous], [anonymous.body], 'exact'), 'users/me (anonymous)');
  });

  test('error responses: status, body shape, error codes and headers', async () => {
    const fixtures = loadFixture<Record<string, FixtureResponse>>('errors');
    const ticketsOnly = (await connect(sb, 'contract', 'tickets:read')).access_token;
    sb.createWorkspace({ subdomain: 'contract-limited', users: 3, ticketEvents: 0, consentMode: 'allow', accountLimit: 1 });
    const limitedToken = (await connect(sb, 'contract-limited')).access_token;
    const raw = (path: string, headers: Record<string, string>) =>
      fetch(`${sb.url}/contract${path}`, { headers }).then(async (r) => ({ status: r.status, headers: r.headers, text: '', body: (await r.json()) as Json }));

    const cases: Record<string, () => Promise<ApiResult>> = {
      unauthenticated_api_token: () => raw('/api/v2/users', { authorization: `Basic ${Buffer.from('a@b.c/token:nope').toString('base64')}` }),
      invalid_oauth_token: () => get('/api/v2/users', 'not-a-token'),
      forbidden: () => get('/api/v2/incremental/users/cursor?start_time=0', ticketsOnly),
      record_not_found: () => get('/api/v2/users/1'),
      invalid_endpoint: () => get('/api/v2/nothing/here'),
      rate_limited: async () => {
        await api(sb, 'contract-limited', '/api/v2/users/me', limitedToken);
        return api(sb, 'contract-limited', '/api/v2/users/me', limitedToken);
      },
      offset_pagination_too_deep: () => get('/api/v2/users?page=101&per_page=100'),
      export_cursor_invalid: () => get('/api/v2/incremental/users/cursor?cursor=bm90IGEgY3Vyc29y'),
      export_start_time_too_recent: () => get(`/api/v2/incremental/users/cursor?start_time=${Math.floor(Date.now() / 1000)}`),
      service_unavailable: () => {
        ws.injectFaults([{ kind: '503', path: '/api/v2/users', retryAfterSeconds: 10 }]);
        return get('/api/v2/users');
      },
    };
    assert.deepEqual(Object.keys(cases).sort(), Object.keys(fixtures).sort(), 'every error fixture is checked');
    for (const [name, call] of Object.entries(cases)) {
      const want = fixtures[name];
      const res = await call();
      assert.equal(res.status, want!.status, name);
      assertNoDrift(shapeDifferences([want!.body], [res.body], 'exact'), `the ${name} body`);
      // Codes are what clients branch on: they must be the real ones.
      const codes = (b: unknown) => JSON.stringify(b, (k, v) => (k === 'description' || k === 'title' || k === 'error_description' ? undefined : v));
      assert.equal(codes(res.body), codes(want!.body), `${name} codes`);
      assertHeaders(res, want!.headers, Object.keys(want!.headers));
    }
  });

  test('entitlements: the OAS shape for admins and for light agents and contributors', async () => {
    const fixture = loadFixture<Record<string, Json>>('entitlements');
    const owner = await get(`/api/v2/users/${ws.ownerId}/entitlements/full`);
    assertNoDrift(shapeDifferences([fixture.admin], [owner.body], 'exact'), 'admin entitlements');
    const free = [...ws.userIds({ roleType: 1 }), ...ws.userIds({ roleType: 3 })].slice(0, 40);
    const bodies: Json[] = [];
    for (const id of free) bodies.push((await get(`/api/v2/users/${id}/entitlements/full`)).body);
    assertNoDrift(shapeDifferences([fixture.light_agent_with_chat_agent, fixture.light_agent_without_paid_role], bodies, 'exact'), 'light agent entitlements');
  });

  test('custom roles: the OAS shape, the light-agent role among them', async () => {
    const res = await get('/api/v2/custom_roles');
    assert.equal(res.status, 200);
    assertNoDrift(shapeDifferences([loadFixture<Json>('custom-roles')], [res.body], 'exact'), 'custom roles');
    assert.ok((res.body.custom_roles as Json[]).some((r) => r.role_type === 1 && (r.configuration as Json).light_agent === true));
  });

  test('group memberships: the OAS shape of a user list and of a created membership', async () => {
    const fixture = loadFixture<Record<string, Json>>('group-memberships');
    const agents = ws.userIds({ role: 'agent', activeOnly: true }).slice(0, 30);
    const lists: Json[] = [];
    for (const id of agents) lists.push((await get(`/api/v2/users/${id}/group_memberships`)).body);
    assertNoDrift(shapeDifferences([fixture.list], lists, 'exact'), 'group memberships list');
    const agent = ws.users().find((u) => u.active && u.role === 'agent' && ws.groupIdsOf(u.id).length < 3)!;
    const group = [360_000_200_001, 360_000_200_002, 360_000_200_003, 360_000_200_004].find((g) => !ws.groupIdsOf(agent.id).includes(g));
    const res = await fetch(`${sb.url}/contract/api/v2/group_memberships.json`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ws.issueAccessToken({ scope: 'read write' })}`, 'content-type': 'application/json' },
      body: JSON.stringify({ group_membership: { user_id: agent.id, group_id: group } }),
    });
    assert.equal(res.status, 201);
    assertNoDrift(shapeDifferences([fixture.created], [await res.json()], 'exact'), 'created group membership');
  });

  test('legacyChatOnly: chat_only appears, in the place accounts sent it until 2023', async () => {
    const legacy = sb.createWorkspace({ subdomain: 'contract-legacy', users: 400, ticketEvents: 0, seed: 7, consentMode: 'allow', legacyChatOnly: true });
    const t = (await connect(sb, 'contract-legacy')).access_token;
    const page = await api(sb, 'contract-legacy', '/api/v2/incremental/users/cursor?start_time=0', t);
    const chatAgents = (page.body.users as Json[]).filter((u) => u.role_type === 2);
    assert.ok(chatAgents.length > 0);
    const fixture = FIXTURE_USERS.legacy_chat_only_agent;
    // Field types as in the modern records (nullability is the field's, not the kind's), plus chat_only.
    const expected = [fixture, ...MODERN_USERS.map((u) => ({ ...u, chat_only: false }))];
    assertNoDrift(shapeDifferences(expected, chatAgents, 'subset', USER_OPTS), 'legacy chat agents');
    for (const u of chatAgents) assert.deepEqual(Object.keys(u), Object.keys(fixture!));
    assert.ok(legacy.users().every((u) => 'chat_only' in u));
  });
});
