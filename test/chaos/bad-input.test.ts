import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import fc from 'fast-check';
import { queryFingerprint } from '../../src/reports/cursor';
import { api, connectAndSync, createTenant, startSystem, type System } from '../helpers/system';
import { chaosSeed, monitorOutbound, reportCount, RUNS, sandboxRequests, type OutboundMonitor } from './helpers';

/**
 * Generated bad input against every public entry point of the API (fast-check, fixed seed, bounded runs):
 * request bodies, workspace strings, query parameters, path ids, headers and OAuth callback parameters.
 * Every input must get a 4xx (an RFC 9457 problem with `errors`, or the HTML page of the browser callback),
 * never a 5xx; none may reach Zendesk (the sandbox) or change a single stored row.
 */

const SEED = chaosSeed('bad-input', 20_260_601);
let system: System;
let tenantA: { id: string; apiKey: string };
let tenantB: { id: string; apiKey: string };
let connectedId: string; // tenant A, connected and synced
let pendingId: string; // tenant A, awaiting consent
let pendingState: string; // its valid, unused OAuth state
let foreignId: string; // tenant B's integration
let monitor: OutboundMonitor;
const tried: Record<string, number> = {};
let fiveHundreds = 0;

before(async () => {
  system = await startSystem();
  tenantA = await createTenant(system, 'Fuzz tenant A');
  tenantB = await createTenant(system, 'Fuzz tenant B');
  system.sandbox.createWorkspace({ subdomain: 'fuzzco', users: 120, ticketEvents: 400, seed: 61, consentMode: 'allow' });
  system.sandbox.createWorkspace({ subdomain: 'pendco', users: 10, ticketEvents: 10, seed: 62, consentMode: 'manual' });
  system.sandbox.createWorkspace({ subdomain: 'otherco', users: 10, ticketEvents: 10, seed: 63, consentMode: 'manual' });
  connectedId = (await connectAndSync(system, tenantA.apiKey, 'fuzzco')).integrationId;
  const pending = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenantA.apiKey, body: { workspace: 'pendco' } });
  pendingId = pending.json.id;
  pendingState = new URL(pending.json.authorizeUrl).searchParams.get('state')!;
  foreignId = (await api(system, 'POST', '/v1/integrations/zendesk', { key: tenantB.apiKey, body: { workspace: 'otherco' } })).json.id;
  monitor = monitorOutbound();
});

after(async () => {
  monitor?.stop();
  reportCount('bad-input', {
    seed: SEED,
    runsPerProperty: RUNS,
    inputsTried: Object.values(tried).reduce((a, b) => a + b, 0),
    byProperty: tried,
    fiveHundreds,
  });
  await system?.stop();
});

// ------------------------------------------------------------------------------------------ invariants

/**
 * One SQL statement: every product table's row count (not the API's rate-limit bookkeeping, which every API
 * process writes about once a second and which a bad request spends like any other: src/api/limits) and md5 of its rows; `quick` (around every input)
 * takes the two big synced tables by count only, the full one is taken before and after each property.
 */
const fingerprintSql: Record<'quick' | 'full', string | undefined> = { quick: undefined, full: undefined };
async function fingerprint(kind: 'quick' | 'full' = 'quick'): Promise<string> {
  if (!fingerprintSql[kind]) {
    const tables = (
      await sql<{
        t: string;
      }>`select table_name as t from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not like 'kysely_%' and table_name not like 'api_rate_limit_%' order by 1`.execute(
        system.db,
      )
    ).rows.map((r) => r.t);
    fingerprintSql[kind] = tables
      .map((t) =>
        kind === 'quick' && ['zendesk_users', 'ticket_events'].includes(t)
          ? `select '${t}' as t, count(*)::text as h from ${t}`
          : `select '${t}' as t, count(*) || ':' || coalesce(md5(string_agg(x::text, '|' order by x::text)), '-') as h from ${t} x`,
      )
      .join(' union all ');
  }
  const rows = await sql.raw<{ t: string; h: string }>(fingerprintSql[kind]).execute(system.db);
  return rows.rows.map((r) => `${r.t}=${r.h}`).join(' ');
}

interface Reply {
  status: number;
  type: string;
  text: string;
  json: any;
}

async function send(path: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(`${system.apiUrl}${path}`, { redirect: 'manual', ...init });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, json };
}

const toSandbox = () => monitor.requests.filter((r) => r.origin === system.sandbox.url).length;

/**
 * Runs one generated request and checks the invariants: a 4xx (or what `allow` accepts), the problem shape,
 * and nothing reached Zendesk or changed in the database.
 */
function property<T>(name: string, arb: fc.Arbitrary<T>, request: (input: T) => Promise<Reply>, expect: (reply: Reply, input: T) => void = expectProblem) {
  return async () => {
    tried[name] = 0;
    const full = await fingerprint('full');
    const baseline = { db: await fingerprint(), sandbox: sandboxRequests(system.sandbox), outbound: toSandbox() };
    await fc.assert(
      fc.asyncProperty(arb, async (input) => {
        tried[name]!++;
        const reply = await request(input);
        if (reply.status >= 500) fiveHundreds++;
        assert.ok(reply.status < 500, `5xx for ${name} input ${fc.stringify(input)}: ${reply.status} ${reply.text.slice(0, 300)}`);
        expect(reply, input);
        assert.equal(sandboxRequests(system.sandbox), baseline.sandbox, 'a request reached the Zendesk sandbox');
        assert.equal(toSandbox(), baseline.outbound, 'the product sent a request to Zendesk');
        assert.equal(await fingerprint(), baseline.db, 'stored data changed');
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    assert.equal(await fingerprint('full'), full, 'stored data changed (full fingerprint)');
  };
}

function expectProblem(reply: Reply, input?: unknown): void {
  const at = input === undefined ? '' : ` for ${fc.stringify(input).slice(0, 300)}`;
  assert.ok(reply.status >= 400 && reply.status < 500, `status ${reply.status}${at}: ${reply.text.slice(0, 300)}`);
  assert.match(reply.type, /^application\/problem\+json/, `content type ${reply.type}${at}`);
  assert.equal(reply.json?.status, reply.status, `problem status${at}`);
  assert.ok(typeof reply.json.type === 'string' && typeof reply.json.title === 'string' && typeof reply.json.detail === 'string', `problem fields${at}`);
  assert.ok(Array.isArray(reply.json.errors), `problem errors${at}`);
}

/** A 400 naming each invalid field. */
function expectInvalid(names?: (input: any) => string[]) {
  return (reply: Reply, input: unknown) => {
    expectProblem(reply, input);
    assert.equal(reply.status, 400, `status for ${fc.stringify(input).slice(0, 300)}: ${reply.text.slice(0, 300)}`);
    assert.ok(reply.json.errors.length > 0, `no field errors for ${fc.stringify(input).slice(0, 300)}`);
    for (const name of names?.(input) ?? []) {
      assert.ok(
        reply.json.errors.some((e: { name: string }) => e.name === name || e.name.split(', ').includes(name)),
        `errors ${JSON.stringify(reply.json.errors)} do not name ${JSON.stringify(name)}`,
      );
    }
  };
}

const json = (key: string, body: string, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
  body,
});

/** Any bytes, percent-encoded (invalid UTF-8 and NUL included). */
const rawBytes = (max = 40) => fc.uint8Array({ maxLength: max }).map((b) => [...b].map((x) => `%${x.toString(16).padStart(2, '0').toUpperCase()}`).join(''));
/** Text of every kind: ASCII, full Unicode, lone surrogates, control characters. */
const anyText = (max = 60) =>
  fc.oneof(
    fc.string({ maxLength: max }),
    fc.string({ unit: 'binary', maxLength: max }),
    fc.string({ unit: 'grapheme', maxLength: max }),
    fc.string({ unit: fc.constantFrom('\u0000', '\n', '\t', '\u202e', '\ud800', '%', '\\', '"', "'", '<'), maxLength: 8 }),
  );
/** Safe to put in a URL: lone surrogates would make encodeURIComponent throw. */
const enc = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'));

// ------------------------------------------------------------------------------------------ bodies

describe('bodies', () => {
  const nonString = fc.oneof(
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.jsonValue(), { maxLength: 4 }),
    fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 }),
  );

  test(
    'POST /v1/integrations/zendesk: wrong types, missing and unknown fields, non-object JSON',
    property(
      'integration-bodies',
      fc.oneof(
        nonString.map((v) => ({ workspace: v })),
        fc.jsonValue().filter((v) => !(v && typeof v === 'object' && !Array.isArray(v) && 'workspace' in v && typeof (v as any).workspace === 'string')),
        fc
          .tuple(
            fc.string({ minLength: 1 }).filter((k) => k !== 'workspace'),
            fc.jsonValue(),
          )
          .map(([k, v]) => ({ workspace: 'acme', [k]: v })),
        fc.string({ minLength: 2049, maxLength: 5000 }).map((w) => ({ workspace: w })),
      ),
      (body) => send('/v1/integrations/zendesk', json(tenantA.apiKey, JSON.stringify(body) ?? 'null')),
      expectInvalid(),
    ),
  );

  test(
    'POST /v1/integrations/zendesk: generated workspace strings that are not a Zendesk workspace',
    property(
      'workspace-strings',
      workspaceStrings().filter((w) => !acceptableWorkspace(w)),
      (workspace) => send('/v1/integrations/zendesk', json(tenantA.apiKey, JSON.stringify({ workspace }))),
      expectInvalid(() => ['workspace']),
    ),
  );

  test(
    'POST /v1/tenants: wrong types, empty, too long, unknown fields, unstorable text',
    property(
      'tenant-bodies',
      fc.oneof(
        nonString.map((v) => ({ name: v })),
        fc.jsonValue().filter((v) => !(v && typeof v === 'object' && !Array.isArray(v) && 'name' in v && typeof (v as any).name === 'string')),
        fc.string({ unit: fc.constantFrom(' ', '\t', '\n', '\r', '\u00a0', '\u2003', '\ufeff'), maxLength: 20 }).map((name) => ({ name })),
        fc
          .string({ minLength: 201, maxLength: 3000 })
          .filter((s) => s.trim().length > 200)
          .map((name) => ({ name })),
        fc
          .tuple(
            fc.string({ minLength: 1 }).filter((k) => k !== 'name'),
            fc.jsonValue(),
          )
          .map(([k, v]) => ({ name: 'ok', [k]: v })),
        // PostgreSQL text cannot hold NUL: such a name can never be stored.
        fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })).map(([a, b]) => ({ name: `x${a}\u0000${b}` })),
      ),
      (body) => send('/v1/tenants', json(system.adminKey, JSON.stringify(body) ?? 'null')),
      expectInvalid(),
    ),
  );

  test(
    'deeply nested JSON is a 4xx',
    property(
      'nested-json',
      fc.record({
        depth: fc.integer({ min: 20, max: 20_000 }),
        kind: fc.constantFrom('array', 'object', 'inWorkspace', 'inName'),
        path: fc.constantFrom('/v1/integrations/zendesk', '/v1/tenants'),
      }),
      ({ depth, kind, path }) => {
        const open = kind === 'array' ? '[' : '{"a":';
        const close = kind === 'array' ? ']' : '}';
        let nested = `${open.repeat(depth)}1${close.repeat(depth)}`;
        if (nested.length > 60_000) nested = `${'['.repeat(30_000)}${']'.repeat(30_000)}`;
        const body = kind === 'inWorkspace' ? `{"workspace":${nested}}` : kind === 'inName' ? `{"name":${nested}}` : nested;
        return send(path, json(path === '/v1/tenants' ? system.adminKey : tenantA.apiKey, body));
      },
      (reply, input) => {
        expectProblem(reply, input);
        assert.ok([400, 413].includes(reply.status), `status ${reply.status}`);
      },
    ),
  );

  test(
    'a body over the size limit is 413; broken JSON is 400',
    property(
      'oversize-and-broken',
      fc.oneof(
        fc.integer({ min: 64 * 1024 + 1, max: 400_000 }).map((n) => ({ kind: 'big' as const, body: `{"workspace":"${'a'.repeat(n)}"}` })),
        fc
          .string({ maxLength: 200 })
          .filter((s) => {
            try {
              JSON.parse(s);
              return false;
            } catch {
              return true;
            }
          })
          .map((body) => ({ kind: 'broken' as const, body })),
        fc
          .jsonValue()
          .map((v) => JSON.stringify(v))
          .filter((s) => s.length > 2)
          .map((s) => ({ kind: 'broken' as const, body: s.slice(0, -1) }))
          .filter((x) => {
            try {
              JSON.parse(x.body);
              return false;
            } catch {
              return true;
            }
          }),
      ),
      ({ body }) => send('/v1/integrations/zendesk', json(tenantA.apiKey, body)),
      (reply, input) => {
        expectProblem(reply, input);
        assert.equal(reply.status, input.kind === 'big' ? 413 : 400);
      },
    ),
  );
});

// ------------------------------------------------------------------------------------------ workspace grammar

/**
 * Strings shaped like what people paste (schemes, labels, suffixes, ports, user-info, paths, spaces, Unicode),
 * most of them not a Zendesk workspace.
 */
function workspaceStrings(): fc.Arbitrary<string> {
  const label = fc.oneof(
    fc.stringMatching(/^[a-z0-9-]{0,70}$/),
    fc.string({
      unit: fc.constantFrom('a', 'Z', '0', '-', '.', '_', '@', ':', '%', '[', ']', '\\', ' ', '\t', '\u00e9', '\u0430', '\u200b', '\u0000', '/', '#', '?'),
      maxLength: 20,
    }),
    fc.constantFrom('xn--acme', 'acme', '-acme', 'acme-', 'ACME', '127.0.0.1', '[::1]', 'localhost', 'acme.evil', 'a'.repeat(64), 'zendesk'),
  );
  const scheme = fc.constantFrom('', '', 'https://', 'http://', 'HTTPS://', 'ftp://', 'javascript:', '//', 'https:/', 'https:', 'file:///', 'data:text/html,');
  const suffix = fc.constantFrom(
    '',
    '.zendesk.com',
    '.zendesk.com',
    '.zendesk.com.evil.com',
    '.evil.com',
    '.zendesk.co',
    'zendesk.com',
    '.zendesk.com:443',
    '.zendesk.com@evil.com',
    '@evil.com',
    ':8080',
    '.zendesk.com.',
    '.ZENDESK.COM',
  );
  const path = fc.oneof(
    fc.constant(''),
    fc.constantFrom('/agent/tickets/1', '/', '?x=1', '#top', '/../..', '\\evil', ' /x', '/%2e%2e'),
    fc.string({ maxLength: 15 }).map((s) => `/${s}`),
  );
  const pad = fc.constantFrom('', '', ' ', '\t', '\n', '\u00a0', '\u3000');
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(pad, scheme, label, suffix, path, pad).map((parts) => parts.join('')) },
    { weight: 1, arbitrary: anyText(80) },
  );
}

/**
 * Independent oracle (written from the contract, not from the product's parser): the forms that mean a
 * Zendesk subdomain: `acme`, `acme.zendesk.com[/…]`, `https://acme.zendesk.com[/…]`, case-insensitive,
 * surrounding spaces ignored, no control characters, no punycode.
 */
function acceptableWorkspace(input: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are what this filter is about
  if (input.length > 2048 || /[\u0000-\u001f\u007f-\u009f]/.test(input)) return false;
  const t = input.trim().toLowerCase();
  const label = '([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)';
  const m = new RegExp(`^(?:(?:https://)?${label}\\.zendesk\\.com(?:[/?#][\\x21-\\x5b\\x5d-\\x7e]*)?|${label})$`).exec(t);
  if (!m) return false;
  const sub = m[1] ?? m[2];
  return !sub!.startsWith('xn--');
}

// ------------------------------------------------------------------------------------------ query parameters

const BOOLEANS = [
  'canReportCsv',
  'chatOnly',
  'moderator',
  'restrictedAgent',
  'shared',
  'sharedAgent',
  'suspended',
  'twoFactorAuthEnabled',
  'verified',
  'includeDeleted',
];
const LISTS: Record<string, string[]> = {
  role: ['end-user', 'agent', 'admin'],
  roleType: ['custom_agent', 'light_agent', 'chat_agent', 'contributor', 'admin', 'billing_admin', 'none'],
  ticketRestriction: ['organization', 'groups', 'assigned', 'requested', 'none'],
  seat: ['none', 'free', 'paid'],
  usage: ['active', 'inactive'],
};
const SORTS = ['name', 'createdAt', 'lastLoginAt', 'lastActivityAt', 'ticketInteractions'].flatMap((s) => [s, `-${s}`]);
const USERS_KEYS = [...BOOLEANS, ...Object.keys(LISTS), 'createdAfter', 'createdBefore', 'inactiveDays', 'q', 'sort', 'limit', 'cursor'];
const VALID_PAIRS: Array<[string, string]> = [
  ['role', 'agent,admin'],
  ['seat', 'paid'],
  ['suspended', 'false'],
  ['inactiveDays', '30'],
  ['sort', '-createdAt'],
  ['q', 'a'],
  ['includeDeleted', 'true'],
  ['createdAfter', '2000-01-01'],
  ['usage', 'inactive'],
  ['roleType', 'none,light_agent'],
  ['verified', 'true'],
];

type Pair = [string, string];
interface BadQuery {
  pairs: Pair[];
  /** The parameters the 400 must name. */
  bad: string[];
}

/** A query with one or more invalid parameters (by construction) among valid ones, for `endpoint`. */
function badQueries(endpoint: 'users' | 'users.csv' | 'utilization'): fc.Arbitrary<BadQuery> {
  const known =
    endpoint === 'utilization' ? ['inactiveDays'] : endpoint === 'users.csv' ? USERS_KEYS.filter((k) => k !== 'limit' && k !== 'cursor') : USERS_KEYS;
  const notIn = (values: string[]) => fc.string({ maxLength: 30 }).filter((s) => !values.includes(s));
  const one = (key: string, value: fc.Arbitrary<string>) => value.map((v): BadQuery => ({ pairs: [[key, v]], bad: [key] }));
  const badValue: fc.Arbitrary<BadQuery> = fc.oneof(
    fc.constantFrom(...BOOLEANS).chain((k) => one(k, notIn(['true', 'false']))),
    fc.constantFrom(...Object.keys(LISTS)).chain((k) =>
      one(
        k,
        fc
          .array(fc.oneof(fc.constantFrom(...LISTS[k]!), fc.string({ maxLength: 12 })), { minLength: 1, maxLength: 4 })
          .map((a) => a.join(','))
          .filter((s) => s.split(',').some((t) => !LISTS[k]!.includes(t))),
      ),
    ),
    fc.constantFrom('inactiveDays', 'limit').chain((k) =>
      one(
        k,
        fc.oneof(
          fc.constantFrom('0', '-1', '1.5', '1e3', '0x10', ' 5', '5 ', '+5', '', 'NaN', 'Infinity', '9999999999', '١٢'),
          fc.integer({ min: k === 'limit' ? 501 : 3651, max: 2_000_000_000 }).map(String),
          fc.string({ maxLength: 10 }).filter((s) => !/^\d+$/.test(s)),
        ),
      ),
    ),
    fc.constantFrom('createdAfter', 'createdBefore').chain((k) =>
      one(
        k,
        fc.oneof(
          fc.constantFrom(
            '2024-13-01',
            '2024-02-30',
            '2024-05-01T12:00:00',
            'yesterday',
            '',
            '0',
            '2024-05-01T25:00:00Z',
            '+275760-09-13',
            '99999-01-01',
            '2024-05-01 12:00:00Z',
            'now()',
          ),
          fc.string({ maxLength: 25 }).filter((s) => !/^\d{4}-\d{2}-\d{2}/.test(s)),
        ),
      ),
    ),
    one('sort', notIn(SORTS)),
    one('q', fc.string({ minLength: 201, maxLength: 400 })),
    one(
      'cursor',
      fc.oneof(
        fc.string({ minLength: 1, maxLength: 100 }),
        fc.base64String({ minLength: 4, maxLength: 200 }),
        fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url')),
        fc
          .record({
            v: fc.constant(1),
            s: fc.constantFrom(...SORTS),
            k: fc.oneof(fc.string(), fc.integer(), fc.constant('\u0000')),
            i: fc.integer(),
            t: fc.integer(),
            f: fc.string({ maxLength: 16 }),
          })
          .map((p) => Buffer.from(JSON.stringify(p)).toString('base64url')),
        fc.string({ minLength: 4097, maxLength: 5000 }),
      ),
    ),
    fc.constantFrom(...VALID_PAIRS).map(([k, v]): BadQuery => ({
      pairs: [
        [k, v],
        [k, v],
      ],
      bad: [k],
    })), // repeated
    fc
      .string({ maxLength: 20 })
      .filter((k) => !USERS_KEYS.includes(k))
      .chain((k) => one(k, fc.string({ maxLength: 10 }))), // unknown
    fc.constant<BadQuery>({
      pairs: [
        ['createdAfter', '2024-06-01'],
        ['createdBefore', '2024-05-01'],
      ],
      bad: ['createdAfter', 'createdBefore'],
    }),
  );
  return fc.tuple(badValue, fc.subarray(VALID_PAIRS)).map(([bad, valid]) => {
    // A known parameter is wrong here when the endpoint does not take it (e.g. `role` on /utilization).
    const keys = new Set(bad.pairs.map(([k]) => k));
    const pairs = [...valid.filter(([k]) => !keys.has(k) && known.includes(k)), ...bad.pairs];
    return { pairs, bad: bad.bad };
  });
}

const queryString = (pairs: Pair[]) => pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');

describe('query parameters', () => {
  for (const endpoint of ['users', 'users.csv', 'utilization'] as const) {
    test(
      `/v1/integrations/:id/${endpoint}: invalid parameters are 400 naming each`,
      property(
        `query-${endpoint}`,
        badQueries(endpoint),
        ({ pairs }) => send(`/v1/integrations/${connectedId}/${endpoint}?${queryString(pairs)}`, { headers: { authorization: `Bearer ${tenantA.apiKey}` } }),
        expectInvalid((input: BadQuery) => input.bad),
      ),
    );
  }

  test(
    'forged cursors (right fingerprint, any position and instant) never give a 5xx',
    property(
      'forged-cursors',
      fc.record({
        s: fc.constantFrom(...SORTS),
        k: fc.oneof(
          fc.string({ maxLength: 20 }),
          fc.string({ unit: 'binary', maxLength: 20 }),
          fc.constantFrom('\u0000', 'a\u0000b', 'infinity', '-infinity', '', '\\', "'", '%'),
          fc.integer(),
          fc.double(),
          fc.date({ noInvalidDate: true }).map((d) => `${d.toISOString().slice(0, 23)}000Z`),
          fc.constantFrom('0000-01-01T00:00:00.000000Z', '9999-12-31T23:59:59.999999Z', '2024-02-30T00:00:00.000000Z'),
        ),
        i: fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.constant(Number.MIN_SAFE_INTEGER)),
        t: fc.oneof(
          fc.integer({ min: -8.64e15, max: 8.64e15 }),
          fc.constantFrom(8.64e15, -8.64e15, 0, -1, 253_402_300_800_000),
          fc.double({ min: -8.64e15, max: 8.64e15, noNaN: true }),
        ),
      }),
      ({ s, k, i, t }) => {
        // Anyone can compute a listing's fingerprint (a hash of public parameters); only the signature-less payload protects it.
        const f = queryFingerprint(connectedId, { includeDeleted: false }, system.config.inactiveAfterDays);
        const cursor = Buffer.from(JSON.stringify({ v: 1, s, k, i, t, f })).toString('base64url');
        return send(`/v1/integrations/${connectedId}/users?sort=${enc(s)}&cursor=${cursor}`, { headers: { authorization: `Bearer ${tenantA.apiKey}` } });
      },
      (reply, input) => {
        if (reply.status === 200) return;
        expectInvalid(() => ['cursor'])(reply, input);
      },
    ),
  );

  test(
    'arbitrary bytes in any parameter never give a 5xx and change nothing',
    property(
      'query-any-bytes',
      fc.record({
        endpoint: fc.constantFrom('users', 'users.csv', 'utilization'),
        pairs: fc.array(
          fc.tuple(
            fc.oneof(fc.constantFrom(...USERS_KEYS), rawBytes(8)),
            fc.oneof(
              rawBytes(60),
              anyText(60).map(enc),
              fc.constantFrom(
                '%00',
                'a%00b',
                '%25',
                '%5C',
                '_',
                '%27',
                '%C0%80',
                '%ED%A0%80',
                '%FF',
                '0000-01-01',
                '9999-12-31T23:59:59%2B14:00',
                '0001-01-01T00:00:00-14:00',
              ),
              fc.date({ noInvalidDate: true }).map((d) => enc(d.toISOString())),
            ),
          ),
          { minLength: 1, maxLength: 2 },
        ),
      }),
      ({ endpoint, pairs }) =>
        send(`/v1/integrations/${connectedId}/${endpoint}?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`, {
          headers: { authorization: `Bearer ${tenantA.apiKey}` },
        }),
      (reply, input) => {
        if (reply.status === 200) return; // a value that happens to be valid (e.g. any `q`) is a normal report
        expectInvalid()(reply, input);
      },
    ),
  );
});

// ------------------------------------------------------------------------------------------ path ids

describe('path ids', () => {
  const ENDPOINTS: Array<[string, (id: string) => string]> = [
    ['GET', (id) => `/v1/integrations/${id}`],
    ['GET', (id) => `/v1/integrations/${id}/users`],
    ['GET', (id) => `/v1/integrations/${id}/users.csv`],
    ['GET', (id) => `/v1/integrations/${id}/utilization`],
    ['POST', (id) => `/v1/integrations/${id}/sync`],
    ['POST', (id) => `/v1/integrations/${id}/reconnect`],
    ['DELETE', (id) => `/v1/integrations/${id}`],
    ['DELETE', (id) => `/v1/integrations/${id}?purge=true`],
  ];
  test(
    "ids that are not one of the tenant's integrations are 400 or 404 on every endpoint",
    property(
      'path-ids',
      fc.record({
        endpoint: fc.nat(ENDPOINTS.length - 1),
        id: fc.oneof(
          fc.string({ minLength: 1, maxLength: 60 }).map(enc),
          rawBytes(30).filter((s) => s.length > 0),
          fc.uuid().map((u) => u.toUpperCase()),
          fc.uuid(),
          fc.constant('FOREIGN'),
          fc.constantFrom(
            '%',
            '%E0%A4%A',
            '%00',
            '%2F',
            '..',
            '%2e%2e',
            'null',
            'undefined',
            '0',
            '-1',
            '00000000-0000-0000-0000-000000000000',
            '{id}',
            'zendesk',
            '%20',
            'ffffffff-ffff-ffff-ffff-ffffffffffff',
          ),
          fc.constantFrom('CONNECTED', 'PENDING').map((which) => `${which}-mangled`),
        ),
      }),
      ({ endpoint, id }) => {
        let value = id;
        if (id === 'FOREIGN') value = foreignId;
        if (id === 'CONNECTED-mangled') value = `${connectedId}x`;
        if (id === 'PENDING-mangled') value = pendingId.slice(1);
        const [method, path] = ENDPOINTS[endpoint]!;
        return send(path(value), { method, headers: { authorization: `Bearer ${tenantA.apiKey}` } });
      },
      (reply, input) => {
        expectProblem(reply, input);
        assert.ok([400, 404].includes(reply.status), `status ${reply.status} for ${fc.stringify(input)}`);
      },
    ),
  );
});

// ------------------------------------------------------------------------------------------ headers

describe('headers', () => {
  const printable = (max: number) =>
    fc.string({
      unit: fc
        .integer({ min: 0x20, max: 0xff })
        .filter((c) => c !== 0x7f)
        .map((c) => String.fromCharCode(c)),
      maxLength: max,
    });
  const ENDPOINTS: Array<{ method: string; path: () => string; body?: () => string; admin?: boolean }> = [
    { method: 'GET', path: () => '/v1/integrations' },
    { method: 'GET', path: () => `/v1/integrations/${connectedId}` },
    { method: 'GET', path: () => `/v1/integrations/${connectedId}/users` },
    { method: 'GET', path: () => `/v1/integrations/${connectedId}/utilization` },
    { method: 'POST', path: () => '/v1/integrations/zendesk', body: () => JSON.stringify({ workspace: 'brand-new-co' }) },
    { method: 'POST', path: () => `/v1/integrations/${connectedId}/sync` },
    { method: 'DELETE', path: () => `/v1/integrations/${connectedId}` },
    { method: 'POST', path: () => '/v1/tenants', body: () => JSON.stringify({ name: 'Intruder' }), admin: true },
  ];
  test(
    'Authorization variants that are not the right key are 401 on every endpoint',
    property(
      'authorization',
      fc
        .record({
          endpoint: fc.nat(ENDPOINTS.length - 1),
          auth: fc.oneof(
            printable(100),
            printable(100).map((s) => `Bearer ${s}`),
            fc.constantFrom(
              'Bearer',
              'Bearer ',
              'Bearer  ',
              'Basic dGVuYW50OmtleQ==',
              'Token x',
              'Bearer null',
              'Bearer undefined',
              `Bearer ${'k'.repeat(600)}`,
              'Bearer \u00ff\u00fe',
            ),
            fc
              .record({ cut: fc.nat(80), insert: fc.constantFrom('', 'x', ' ', '\t', 'é', 'Bearer ') })
              .map(({ cut, insert }) => ({ mangle: true as const, cut, insert })),
            fc.constantFrom('OTHER-TENANT', 'ADMIN-AS-TENANT', 'TENANT-AS-ADMIN'),
          ),
        })
        .filter(({ endpoint, auth }) => {
          // Skip the combinations that are a valid key for the endpoint and would change data.
          const e = ENDPOINTS[endpoint];
          if (auth === 'OTHER-TENANT') return !e!.body || !!e!.admin;
          if (auth === 'ADMIN-AS-TENANT') return !e!.admin;
          if (auth === 'TENANT-AS-ADMIN') return !!e!.admin;
          return true;
        }),
      ({ endpoint, auth }) => {
        const e = ENDPOINTS[endpoint];
        const right = e!.admin ? system.adminKey : tenantA.apiKey;
        let header: string;
        if (typeof auth === 'object') {
          const cut = auth.cut % right.length;
          header = `Bearer ${right.slice(0, cut)}${auth.insert}${right.slice(cut + 1)}`;
          if (header === `Bearer ${right}`) header = `Bearer ${right}!`;
        } else if (auth === 'OTHER-TENANT') header = `Bearer ${tenantB.apiKey}`;
        else if (auth === 'ADMIN-AS-TENANT') header = `Bearer ${system.adminKey}`;
        else if (auth === 'TENANT-AS-ADMIN') header = `Bearer ${tenantA.apiKey}`;
        else header = auth;
        // Tenant B is a valid tenant: on tenant endpoints it must see A's integration as unknown (404), on the list its own.
        const foreignTenant = auth === 'OTHER-TENANT' && !e!.admin;
        return send(e!.path(), {
          method: e!.method,
          headers: { authorization: header, ...(e!.body ? { 'content-type': 'application/json' } : {}) },
          body: e!.body?.(),
        }).then((r) => ({ ...r, foreign: foreignTenant, listing: e!.path() === '/v1/integrations' && e!.method === 'GET' }));
      },
      (reply: Reply & { foreign?: boolean; listing?: boolean }, input) => {
        if (reply.foreign) {
          if (reply.listing) {
            assert.equal(reply.status, 200);
            assert.deepEqual(
              reply.json.integrations.map((i: { id: string }) => i.id),
              [foreignId],
            );
            return;
          }
          expectProblem(reply, input);
          assert.equal(reply.status, 404, `tenant B on A's integration: ${reply.status}`);
          return;
        }
        expectProblem(reply, input);
        assert.equal(reply.status, 401, `status ${reply.status} for ${fc.stringify(input)}`);
      },
    ),
  );

  test(
    'content types and encodings that are not JSON, or not readable, are 4xx',
    property(
      'content-type',
      fc
        .record({
          type: fc.oneof(
            fc.constantFrom(
              'text/plain',
              'application/x-www-form-urlencoded',
              'multipart/form-data; boundary=x',
              'application/xml',
              'text/json',
              'application/jsonx',
              '',
              'application',
              '*/*',
              'application/json; charset=utf-16le',
              'application/json; charset=bogus',
              'application/json; charset=latin1',
              'application/problem+json; charset=ucs-4',
            ),
            printable(40),
          ),
          encoding: fc.constantFrom(undefined, 'gzip', 'deflate', 'br', 'x-unknown', 'gzip, gzip', 'identity'),
          body: fc.oneof(fc.constant(JSON.stringify({ workspace: 'brand-new-co' })), fc.constant('workspace=brand-new-co'), fc.string({ maxLength: 100 })),
        })
        .filter(({ type, encoding, body }) => {
          // Exclude the one combination that is a valid request: a JSON media type, utf-8, identity, a valid body.
          const jsonType = /^\s*application\/(json|[^;\s]*\+json)\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i.test(type);
          const readable = encoding === undefined || encoding === 'identity';
          return !(jsonType && readable && body === JSON.stringify({ workspace: 'brand-new-co' }));
        }),
      ({ type, encoding, body }) =>
        send('/v1/integrations/zendesk', {
          method: 'POST',
          headers: { authorization: `Bearer ${tenantA.apiKey}`, 'content-type': type, ...(encoding ? { 'content-encoding': encoding } : {}) },
          body,
        }),
      expectProblem,
    ),
  );
});

// ------------------------------------------------------------------------------------------ OAuth callback

describe('OAuth callback', () => {
  test(
    'forged, mangled or malformed code/state/error parameters are a 400 page that consumes nothing',
    property(
      'callback',
      fc.record({
        state: fc.oneof(
          fc.constant(undefined),
          anyText(120),
          rawBytes(40).map((b) => ({ raw: b })),
          fc.record({ at: fc.nat(200), ch: fc.constantFrom('A', '0', '.', '-', '_', '', '%00') }).map((m) => ({ mangle: m })),
          fc.tuple(fc.uuid(), fc.uuid(), fc.integer({ min: 0, max: 99_999_999_999 }), fc.base64String({ maxLength: 60 })).map((p) => p.join('.')),
          fc.constantFrom('PENDING-EXP+1', 'PENDING-FLOW-OF-OTHER', 'PENDING-NO-SIG', 'PENDING-TWICE'),
        ),
        code: fc.option(fc.oneof(anyText(80), fc.string({ minLength: 2049, maxLength: 3000 })), { nil: undefined }),
        error: fc.option(
          fc.oneof(
            fc.constantFrom('access_denied', 'server_error', 'invalid_scope', '', '<script>alert(1)</script>'),
            anyText(30),
            fc.string({ minLength: 201, maxLength: 300 }),
          ),
          { nil: undefined },
        ),
        description: fc.option(fc.oneof(anyText(100), fc.constant('<script>alert(document.cookie)</script>')), { nil: undefined }),
        extra: fc.array(fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })), { maxLength: 3 }),
      }),
      (input) => {
        const parts: string[] = [];
        const s = input.state;
        if (typeof s === 'string') {
          const [flow, integration, exp, sig] = pendingState.split('.');
          const value =
            s === 'PENDING-EXP+1'
              ? [flow, integration, Number(exp) + 1, sig].join('.')
              : s === 'PENDING-FLOW-OF-OTHER'
                ? [flow, foreignId, exp, sig].join('.')
                : s === 'PENDING-NO-SIG'
                  ? [flow, integration, exp, ''].join('.')
                  : s === 'PENDING-TWICE'
                    ? undefined
                    : s;
          if (s === 'PENDING-TWICE') parts.push(`state=${enc(pendingState)}`, `state=${enc(pendingState)}`);
          else parts.push(`state=${enc(value!)}`);
        } else if (s && 'raw' in s) parts.push(`state=${s.raw}`);
        else if (s && 'mangle' in s) {
          const at = s.mangle.at % pendingState.length;
          let mangled = `${pendingState.slice(0, at)}${s.mangle.ch}${pendingState.slice(at + 1)}`;
          if (mangled === pendingState) mangled += 'x';
          parts.push(`state=${enc(mangled)}`);
        }
        if (input.code !== undefined) parts.push(`code=${enc(input.code)}`);
        if (input.error !== undefined) parts.push(`error=${enc(input.error)}`);
        if (input.description !== undefined) parts.push(`error_description=${enc(input.description)}`);
        for (const [k, v] of input.extra) if (!['state', 'code', 'error', 'error_description'].includes(k)) parts.push(`${enc(k)}=${enc(v)}`);
        return send(`/v1/oauth/zendesk/callback?${parts.join('&')}`);
      },
      (reply, input) => {
        assert.equal(reply.status, 400, `status ${reply.status} for ${fc.stringify(input).slice(0, 300)}: ${reply.text.slice(0, 200)}`);
        assert.match(reply.type, /^text\/html/);
        assert.match(reply.text, /<h1[ >]/);
        assert.ok(!/<script/i.test(reply.text), 'the page reflects markup');
      },
    ),
  );

  test('the pending integration is still awaiting consent with its flow unused', async () => {
    const integration = await api(system, 'GET', `/v1/integrations/${pendingId}`, { key: tenantA.apiKey });
    assert.equal(integration.json.status, 'awaiting_consent');
    const flows = await system.db.selectFrom('oauth_flows').select(['used_at']).where('integration_id', '=', pendingId).execute();
    assert.ok(flows.length === 1 && flows[0]!.used_at === null);
  });
});
