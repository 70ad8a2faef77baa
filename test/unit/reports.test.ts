import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HttpProblem } from '../../src/api/problems';
import { reportQuerySchemas, UsersCsvQuery, UsersQuery, UtilizationQuery } from '../../src/api/reportSchemas';
import { parseOr400 } from '../../src/api/validate';
import { CSV_HEADER, csvField, csvRow } from '../../src/reports/csv';
import { decodeCursor, encodeCursor, queryFingerprint, type Cursor } from '../../src/reports/cursor';
import { parseSort, roleTypeCode, roleTypeName, sortParam, type UserFilters } from '../../src/reports/model';
import { escapeLike } from '../../src/reports/userQuery';
import { readCsv } from '../e2e/reports.fixture';

/** The listing flavour of the one request parser (what the reports' own parseQuery was). */
const parseQuery = <S extends Parameters<typeof parseOr400>[0]>(schema: S, query: unknown, reasons?: Record<string, string>) =>
  parseOr400(schema, query, 'listing', reasons);

describe('CSV', () => {
  test('quotes exactly what needs quoting', () => {
    assert.equal(csvField(`O'Brien, "Jr"`), `"O'Brien, ""Jr"""`);
    assert.equal(csvField('Line\nBreak'), '"Line\nBreak"');
    assert.equal(csvField('Carriage\rReturn'), '"Carriage\rReturn"');
    assert.equal(csvField('  Padded   Spaces  '), '"  Padded   Spaces  "');
    assert.equal(csvField('Semi;colon'), 'Semi;colon');
    assert.equal(csvField("O'Brien"), "O'Brien");
    // Formula-like text is neutralised by default (a leading '), kept as it is with raw.
    assert.equal(csvField('=HYPERLINK("http://example.com")'), `"'=HYPERLINK(""http://example.com"")"`);
    assert.equal(csvField('=HYPERLINK("http://example.com")', { raw: true }), '"=HYPERLINK(""http://example.com"")"');
    assert.equal(csvField('Zoë Ωmega-Łopez 😀'), 'Zoë Ωmega-Łopez 😀');
  });

  test('null is an empty field, the empty string is "", scalars as JSON shows them', () => {
    assert.equal(csvField(null), '');
    assert.equal(csvField(''), '""');
    assert.equal(csvField(360000123456789), '360000123456789');
    assert.equal(csvField(0), '0');
    assert.equal(csvField(true), 'true');
    assert.equal(csvField(false), 'false');
    assert.equal(csvRow(['a', null, 1, false, '']), 'a,,1,false,""\r\n');
  });

  test('the header is the User fields in contract order, later fields appended', () => {
    assert.equal(
      CSV_HEADER,
      'id,name,email,createdAt,lastLoginAt,role,roleType,canReportCsv,chatOnly,moderator,restrictedAgent,shared,sharedAgent,suspended,ticketRestriction,twoFactorAuthEnabled,verified,deleted,seat,ticketInteractions,lastTicketInteractionAt,lastActivityAt,usage,seatReason,roleRaw,roleTypeRaw,ticketRestrictionRaw,usageBasis\r\n',
    );
  });

  test('any row reads back as written (RFC 4180 reader), raw', () => {
    const value = fc.oneof(fc.string({ unit: 'grapheme' }), fc.constantFrom('"', ',', '\r\n', '\n', ' x', 'x ', '""'), fc.constant(null));
    fc.assert(
      fc.property(fc.array(fc.array(value, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 }), (rows) => {
        const width = rows[0]!.length;
        const table = rows.map((r) => Array.from({ length: width }, (_, i) => r[i] ?? null));
        // raw: Zendesk's values exactly (by default formula-like text gets a leading ', see test/unit/csv-formulas.test.ts).
        const parsed = readCsv(table.map((r) => csvRow(r, { raw: true })).join(''));
        assert.deepEqual(
          parsed.map((r) => r.map((f) => (f.value === '' && !f.quoted ? null : f.value))),
          table,
        );
      }),
    );
  });
});

describe('cursor', () => {
  const filters: UserFilters = { includeDeleted: false, role: ['agent', 'admin'], createdAfter: new Date('2024-01-01T00:00:00Z') };
  const fingerprint = queryFingerprint('i-1', filters, 30);
  const cursor: Cursor = {
    sort: parseSort('-lastActivityAt'),
    position: { key: '2026-11-01T10:00:00.123456Z', id: 360000000123 },
    asOf: new Date('2026-11-25T12:00:00.250Z'),
    fingerprint,
  };

  test('round-trips, opaque and URL-safe', () => {
    const token = encodeCursor(cursor);
    assert.match(token, /^[A-Za-z0-9_-]+$/);
    const decoded = decodeCursor(token, { sort: cursor.sort, fingerprint });
    assert.deepEqual(decoded, { ok: true, cursor });
    for (const key of ['-infinity', 'Zoë "O\'Brien", Jr', 0, 17]) {
      const sort = parseSort(typeof key === 'number' ? 'ticketInteractions' : key === '-infinity' ? '-lastLoginAt' : 'name');
      const c = { ...cursor, sort, position: { key, id: 1 } };
      assert.deepEqual(decodeCursor(encodeCursor(c), { sort, fingerprint }), { ok: true, cursor: c });
    }
  });

  test('is bound to its sort and its filters', () => {
    const token = encodeCursor(cursor);
    const otherSort = decodeCursor(token, { sort: parseSort('lastActivityAt'), fingerprint });
    assert.equal(otherSort.ok, false);
    assert.match((otherSort as { reason: string }).reason, /sort=-lastActivityAt/);
    const otherFilters = decodeCursor(token, { sort: cursor.sort, fingerprint: queryFingerprint('i-1', { ...filters, role: ['agent'] }, 30) });
    assert.equal(otherFilters.ok, false);
    assert.match((otherFilters as { reason: string }).reason, /filters/);
  });

  test('rejects malformed tokens', () => {
    const expected = { sort: cursor.sort, fingerprint };
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const good = JSON.parse(Buffer.from(encodeCursor(cursor), 'base64url').toString());
    for (const token of [
      'not a cursor',
      '!!!',
      Buffer.from('not json').toString('base64url'),
      enc([1, 2]),
      enc(null),
      enc({ ...good, v: 2 }),
      enc({ ...good, i: 'x' }),
      enc({ ...good, i: 1.5 }),
      enc({ ...good, t: 'yesterday' }),
      enc({ ...good, s: 'email' }),
      enc({ ...good, k: 42 }),
      enc({ ...good, k: 'infinity' }), // descending sorts put missing dates at -infinity
      enc({ ...good, k: '2026-13-45T00:00:00.000000Z' }),
      enc({ ...good, k: "2026-11-01'; DROP TABLE users;--" }),
      enc({ ...good, f: 7 }),
      enc({ ...good, k: '2024-02-30T00:00:00.000000Z' }), // Date.parse rolls it over; PostgreSQL refuses it
      enc({ ...good, k: '0000-01-01T00:00:00.000000Z' }),
      enc({ ...good, t: -8.64e15 }),
      enc({ ...good, s: 'name', k: 'nul\u0000name' }),
    ]) {
      const r = decodeCursor(token, expected);
      assert.equal(r.ok, false, token);
      assert.match((r as { reason: string }).reason, /not a cursor issued by this API/);
    }
  });

  test('the fingerprint ignores order but not content', () => {
    const a = queryFingerprint('i-1', { includeDeleted: false, role: ['agent', 'admin'], suspended: true }, 30);
    assert.equal(a, queryFingerprint('i-1', { suspended: true, role: ['admin', 'agent'], includeDeleted: false }, 30));
    assert.notEqual(a, queryFingerprint('i-2', { includeDeleted: false, role: ['agent', 'admin'], suspended: true }, 30));
    assert.notEqual(a, queryFingerprint('i-1', { includeDeleted: false, role: ['agent', 'admin'], suspended: true }, 31));
    assert.notEqual(a, queryFingerprint('i-1', { includeDeleted: true, role: ['agent', 'admin'], suspended: true }, 30));
    assert.notEqual(a, queryFingerprint('i-1', { includeDeleted: false, role: ['agent', 'admin'], suspended: false }, 30));
  });
});

describe('query parameters', () => {
  const bad = (schema: Parameters<typeof parseQuery>[0], query: Record<string, unknown>, reasons?: Record<string, string>) => {
    try {
      parseQuery(schema, query, reasons);
    } catch (err) {
      assert.ok(err instanceof HttpProblem);
      assert.equal(err.status, 400);
      return Object.fromEntries(err.errors.map((e) => [e.name, e.reason]));
    }
    assert.fail(`accepted ${JSON.stringify(query)}`);
  };

  test('parses every filter to its typed value', () => {
    const q = parseQuery(UsersQuery, {
      role: 'agent,admin,agent',
      roleType: 'light_agent,none',
      canReportCsv: 'true',
      chatOnly: 'false',
      moderator: 'true',
      restrictedAgent: 'false',
      shared: 'false',
      sharedAgent: 'true',
      suspended: 'true',
      ticketRestriction: 'groups,none',
      twoFactorAuthEnabled: 'false',
      verified: 'true',
      createdAfter: '2024-02-29',
      createdBefore: '2024-03-01T12:30:00+02:00',
      seat: 'paid,free',
      usage: 'inactive',
      inactiveDays: '90',
      q: "O'Brien",
      includeDeleted: 'true',
      sort: '-lastActivityAt',
      limit: '500',
      cursor: 'abc',
    });
    assert.deepEqual(q, {
      role: ['agent', 'admin'],
      roleType: ['light_agent', 'none'],
      canReportCsv: true,
      chatOnly: false,
      moderator: true,
      restrictedAgent: false,
      shared: false,
      sharedAgent: true,
      suspended: true,
      ticketRestriction: ['groups', 'none'],
      twoFactorAuthEnabled: false,
      verified: true,
      createdAfter: new Date('2024-02-29T00:00:00.000Z'),
      createdBefore: new Date('2024-03-01T10:30:00.000Z'),
      seat: ['paid', 'free'],
      usage: ['inactive'],
      inactiveDays: 90,
      q: "O'Brien",
      includeDeleted: true,
      sort: '-lastActivityAt',
      limit: 500,
      cursor: 'abc',
    });
    assert.deepEqual(parseQuery(UsersQuery, {}), {});
  });

  test('names each bad parameter, unknown ones one by one', () => {
    assert.deepEqual(Object.keys(bad(UsersQuery, { foo: '1', bar: '2', role: 'owner', limit: '0' })).sort(), ['bar', 'foo', 'limit', 'role']);
    const reasons = bad(UsersQuery, {
      role: 'agent,owner,boss',
      suspended: ['true', 'false'],
      createdAfter: '2023-02-29',
      inactiveDays: '3651',
      sort: 'email',
    });
    assert.match(reasons.role!, /unknown values "owner", "boss"/);
    assert.equal(reasons.suspended, 'must be given only once');
    assert.match(reasons.createdAfter!, /ISO-8601/);
    assert.match(reasons.inactiveDays!, /at most 400: .*ACTIVITY_RETENTION_DAYS/);
    assert.match(reasons.sort!, /must be one of name, -name/);
    assert.equal(bad(UsersQuery, { foo: 'x' }).foo, 'is not a known parameter');
  });

  test('users.csv takes the filters but neither limit nor cursor; utilization only inactiveDays', () => {
    const reasons = bad(UsersCsvQuery, { limit: '10', cursor: 'x' }, { limit: 'no paging', cursor: 'no paging' });
    assert.deepEqual(reasons, { limit: 'no paging', cursor: 'no paging' });
    assert.deepEqual(parseQuery(UsersCsvQuery, { seat: 'paid', sort: 'name' }), { seat: ['paid'], sort: 'name' });
    assert.deepEqual(parseQuery(UtilizationQuery, { inactiveDays: '7' }), { inactiveDays: 7 });
    assert.deepEqual(Object.keys(bad(UtilizationQuery, { seat: 'paid' })), ['seat']);
  });

  test('bounds', () => {
    for (const limit of ['1', '500', '007']) assert.equal(parseQuery(UsersQuery, { limit }).limit, Number(limit));
    for (const limit of ['0', '501', '-1', '1e2', '1.0', ' 5', '']) assert.ok(bad(UsersQuery, { limit }).limit, limit);
    // inactiveDays is capped by ACTIVITY_RETENTION_DAYS (400 by default): older ticket events are deleted.
    for (const inactiveDays of ['1', '400']) assert.equal(parseQuery(UsersQuery, { inactiveDays }).inactiveDays, Number(inactiveDays));
    for (const inactiveDays of ['0', '401', '3651', '99999999999']) assert.ok(bad(UsersQuery, { inactiveDays }).inactiveDays, inactiveDays);
    assert.equal(bad(UsersQuery, { inactiveDays: '401' }).inactiveDays, 'must be at most 400: ticket activity is kept for 400 days (ACTIVITY_RETENTION_DAYS)');
    const wide = reportQuerySchemas(3650);
    assert.equal(parseQuery(wide.UsersQuery, { inactiveDays: '3650' }).inactiveDays, 3650);
    assert.equal(parseQuery(wide.UtilizationQuery, { inactiveDays: '3650' }).inactiveDays, 3650);
    assert.ok(bad(reportQuerySchemas(30).UsersCsvQuery, { inactiveDays: '31' }).inactiveDays);
    assert.equal(parseQuery(UsersQuery, { q: 'x'.repeat(200) }).q?.length, 200);
    assert.ok(bad(UsersQuery, { q: 'x'.repeat(201) }).q);
    assert.match(bad(UsersQuery, { q: 'a\u0000b' }).q!, /NUL/);
  });
});

describe('model', () => {
  test('role type names and codes', () => {
    assert.equal(roleTypeName(null), null);
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map((c) => roleTypeName(c)),
      ['custom_agent', 'light_agent', 'chat_agent', 'contributor', 'admin', 'billing_admin'],
    );
    assert.equal(roleTypeCode('billing_admin'), 5);
    assert.equal(roleTypeName(6), 'unknown', 'an undocumented code is kept as unknown, never an error');
    assert.equal(roleTypeName(-1), 'unknown');
  });

  test('sort parameters', () => {
    assert.deepEqual(parseSort('-ticketInteractions'), { field: 'ticketInteractions', desc: true });
    assert.equal(sortParam(parseSort('createdAt')), 'createdAt');
  });

  test('LIKE patterns are escaped', () => {
    assert.equal(escapeLike('50%_off\\'), '50\\%\\_off\\\\');
    assert.equal(escapeLike("O'Brien"), "O'Brien");
  });
});
