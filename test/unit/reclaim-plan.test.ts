import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPlan, type PlanInput, type PlanUser } from '../../src/reclaim/plan';

const NOW = new Date('2026-12-01T00:00:00Z');
const DAY = 86_400_000;
const ago = (days: number) => new Date(NOW.getTime() - days * DAY);

function user(id: number, over: Partial<PlanUser> = {}): PlanUser {
  return {
    id,
    email: `u${id}@example.com`,
    role: 'agent',
    roleType: 0,
    suspended: false,
    shared: false,
    sharedAgent: false,
    deleted: false,
    createdAt: ago(400),
    lastLoginAt: ago(200),
    lastActivityAt: ago(200),
    seat: 'paid',
    seatReason: 'agent with a custom role',
    entitlementSeat: null,
    ...over,
  };
}

const input = (users: PlanUser[], over: Partial<PlanInput> = {}): PlanInput => ({
  action: 'end_user',
  requestedIds: null,
  users,
  activeAdminIds: [1],
  grantAdminId: 1,
  settings: {},
  inactiveDays: 30,
  now: NOW,
  ...over,
});

const decisions = (input: PlanInput) => Object.fromEntries(buildPlan(input).map((e) => [e.userId, `${e.decision}:${e.reason}`]));

test('each guardrail excludes with its reason; the rest are candidates with theirs', () => {
  const users = [
    user(1, { role: 'admin', roleType: 4 }),
    user(2),
    user(3, { suspended: true, lastActivityAt: ago(1) }),
    user(4, { sharedAgent: true }),
    user(5, { email: 'Keep@Example.com' }),
    user(6, { createdAt: ago(5) }),
    user(7, { createdAt: null }),
    user(8, { seat: 'free', roleType: 1 }),
    user(9, { seat: 'unknown' }),
    user(10, { lastActivityAt: ago(2) }),
    user(11, { deleted: true }),
    user(12),
  ];
  const plan = decisions(input(users, { settings: { accountOwnerUserId: 12, exemptions: { emails: ['keep@example.com'] } } }));
  assert.deepEqual(plan, {
    1: 'excluded:grant_admin',
    2: 'candidate:inactive',
    3: 'candidate:suspended',
    4: 'excluded:shared_user',
    5: 'excluded:exempt',
    6: 'excluded:new_hire',
    7: 'excluded:created_unknown',
    8: 'excluded:free_seat',
    9: 'excluded:seat_unknown',
    10: 'excluded:active',
    11: 'excluded:deleted',
    12: 'excluded:account_owner',
  });
});

test('requested ids are candidates with reason "requested"; unknown ids are not_found', () => {
  const plan = decisions(input([user(2), user(3, { suspended: true })], { requestedIds: [3, 2, 2, 99] }));
  assert.deepEqual(plan, { 2: 'candidate:requested', 3: 'candidate:suspended', 99: 'excluded:not_found' });
});

test('the last remaining admin is never proposed', () => {
  const admins = [user(2, { role: 'admin', roleType: 4 }), user(3, { role: 'admin', roleType: 4 })];
  // The grant's admin is someone else who is not an active admin any more: two admins, both inactive.
  const plan = buildPlan(input(admins, { activeAdminIds: [2, 3], grantAdminId: null }));
  assert.deepEqual(
    plan.map((e) => [e.userId, e.decision, e.reason]),
    [
      [2, 'candidate', 'inactive'],
      [3, 'excluded', 'last_admin'],
    ],
  );
});

test('light_agent: already light agents and users whose other roles keep a seat are left alone', () => {
  const users = [user(2), user(3, { seat: 'free', roleType: 1 }), user(4, { seat: 'paid', roleType: 1, entitlementSeat: 'paid' })];
  assert.deepEqual(decisions(input(users, { action: 'light_agent' })), {
    2: 'candidate:inactive',
    3: 'excluded:already_light_agent',
    4: 'excluded:no_seat_freed',
  });
});

test('candidates come first, then the excluded, each in id order', () => {
  const plan = buildPlan(input([user(5, { deleted: true }), user(4), user(2, { deleted: true }), user(3)]));
  assert.deepEqual(
    plan.map((e) => e.userId),
    [3, 4, 2, 5],
  );
});

test('a user kept during an earlier notice period is left alone until the cooldown ends', () => {
  const plan = buildPlan(input([user(2), user(3)], { keptIds: [3] }));
  const byId = new Map(plan.map((e) => [e.userId, e]));
  assert.equal(byId.get(2)?.decision, 'candidate');
  assert.equal(byId.get(3)?.decision, 'excluded');
  assert.equal(byId.get(3)?.reason, 'kept');
  // Without the cooldown (it ended), the same user is proposed again.
  assert.equal(buildPlan(input([user(3)])).at(0)?.decision, 'candidate');
});
