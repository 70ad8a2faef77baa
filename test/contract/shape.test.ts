import { test } from 'node:test';
import assert from 'node:assert/strict';
import { userFixtures } from '../fixtures/zendesk';
import { jsonType, shapeDifferences, shapeOf } from './shape';

// The comparison used by sandbox-shapes.test.ts must be able to fail: each way a sandbox can drift from a
// real shape is shown here once, on the fixtures themselves.

const fixtures = userFixtures();
const admin = fixtures.admin;
const others = Object.entries(fixtures)
  .filter(([k]) => k !== 'legacy_chat_only_agent')
  .map(([, v]) => v);

test('identical shapes agree, whatever the values', () => {
  assert.deepEqual(shapeDifferences([admin], [{ ...admin, id: 1, name: 'Someone else', email: 'x@y.z' }], 'exact'), []);
  assert.deepEqual(shapeDifferences(others, others, 'exact'), []);
});

test('a field real records do not have is drift (chat_only coming back)', () => {
  const diffs = shapeDifferences([admin], [{ ...admin, chat_only: false }]);
  assert.deepEqual(diffs, ['chat_only: a field real responses do not have']);
});

test('a field the fixture always has, missing in some actual records, is drift', () => {
  const { updated_at: _u, ...withoutUpdatedAt } = admin!;
  assert.deepEqual(shapeDifferences([admin], [admin, withoutUpdatedAt]), ['updated_at: missing in 1 of 2']);
});

test('a type the real field never takes is drift, null included', () => {
  assert.deepEqual(shapeDifferences([admin], [{ ...admin, role_type: '4' }]), ['role_type: string is not a type of the real field (integer)']);
  assert.deepEqual(shapeDifferences([admin], [{ ...admin, custom_role_id: null }]), ['custom_role_id: null is not a type of the real field (integer)']);
  assert.deepEqual(shapeDifferences([admin], [{ ...admin, details: '' }]), ['details: string is not a type of the real field (null)']);
});

test('nested objects and arrays are compared too', () => {
  const withPhoto = fixtures.admin_with_photo as { photo: Record<string, unknown> };
  const broken = { ...withPhoto, photo: { ...withPhoto.photo, thumbnails: [{ url: 'x' }] } };
  const diffs = shapeDifferences([withPhoto], [broken]);
  assert.ok(diffs.includes('photo.thumbnails[].id: missing in 1 of 1'), diffs.join('\n'));
  assert.deepEqual(shapeDifferences([{ tags: [] }], [{ tags: ['vip'] }]), ['tags[]: elements where real responses have none']);
});

test('exact mode: the actual values must show every type and key the real ones show', () => {
  // Real users have a photo object sometimes; a sandbox that never sends one is drifting.
  const noPhoto = others.map((u) => ({ ...u, photo: null }));
  const diffs = shapeDifferences(others, noPhoto, 'exact');
  assert.ok(diffs.includes('photo: never object, which real responses send'), diffs.join('\n'));
  assert.deepEqual(shapeDifferences(others, noPhoto, 'subset'), [], 'subset mode accepts less variety');
});

test('options: open objects, optional keys, discriminated arrays', () => {
  assert.deepEqual(shapeDifferences([{ f: { a: 1 } }], [{ f: { b: 'x' } }], 'exact', { open: ['f'] }), []);
  assert.deepEqual(shapeDifferences([{ a: 1, m: [] }], [{ a: 1 }], 'exact', { optional: ['m'] }), []);
  const expected = [
    {
      c: [
        { t: 'A', x: 1 },
        { t: 'B', y: 's' },
      ],
    },
  ];
  const opts = { discriminators: { 'c[]': 't' } };
  assert.deepEqual(
    shapeDifferences(
      expected,
      [
        {
          c: [
            { t: 'B', y: 'q' },
            { t: 'A', x: 2 },
          ],
        },
      ],
      'exact',
      opts,
    ),
    [],
  );
  assert.deepEqual(shapeDifferences(expected, [{ c: [{ t: 'A', y: 's' }] }], 'subset', opts), [
    'c[]{A}.y: a field real responses do not have',
    'c[]{A}.x: missing in 1 of 1',
  ]);
  assert.deepEqual(shapeDifferences(expected, [{ c: [{ t: 'C' }] }], 'subset', opts), ['c[]: an element with t=C, which real responses do not have']);
});

test('integers are told apart from other numbers, leniently where reals were expected', () => {
  assert.equal(jsonType(1), 'integer');
  assert.equal(jsonType(1.5), 'number');
  assert.deepEqual(shapeDifferences([{ lat: 38.7 }], [{ lat: 52 }]), []);
  assert.deepEqual(shapeDifferences([{ id: 1 }], [{ id: 1.5 }]), ['id: number is not a type of the real field (integer)']);
  assert.equal(shapeOf([1, null, 'a']).types.size, 3);
});
