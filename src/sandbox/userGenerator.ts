// Deterministic user generator: user number i of a workspace is a pure function of (seed, i),
// so the store can regenerate it on demand instead of keeping 100k objects alive.

import { profilePhoto } from './photos';
import { hash32, Prng } from './prng';
import { isSeatHolder } from './seats';
import { EMAIL_DOMAINS, emailSlug, FIRST_NAMES, LAST_NAMES, LOCALES, TIME_ZONES, TRICKY_NAMES } from './names';
import type { Role, RoleType, TicketRestriction, UserData } from './types';

export interface UserGenContext {
  seed: number;
  /** Number of generated users (their creation dates spread over the same span whatever the count). */
  count: number;
  nowMs: number;
  subdomain: string;
  /** First id; ids grow with the index, like Zendesk's do with creation time. */
  idBase: number;
  /** Where photo URLs point (default https://{subdomain}.zendesk.com). */
  baseUrl?: string;
  /**
   * Exactly this many agents and admins (all active, the owner included) instead of the default mix's
   * ~36 % (see seats.ts); undefined keeps the default mix, draw for draw.
   */
  seatHolders?: number;
}

/**
 * The account's admin role: real admins carry `role_type` 4 (or 5, billing admin) *and* this non-null
 * `custom_role_id` (recorded, test/fixtures/zendesk/users.json `admin`).
 */
export const ADMIN_ROLE_ID = 360_000_100_090;
/** Custom agent roles (Enterprise), for agents with role_type 0. */
export const CUSTOM_ROLE_IDS = [360_000_100_001, 360_000_100_002, 360_000_100_003, 360_000_100_004, 360_000_100_005, 360_000_100_006];

/** custom_role_id as Zendesk sets it for a role: the admin role for admins, the custom role for role_type 0. */
export function customRoleIdFor(role: Role, roleType: RoleType, current: number | null): number | null {
  if (role === 'admin' && (roleType === 4 || roleType === 5)) return ADMIN_ROLE_ID;
  if (role === 'agent' && roleType === 0) return current !== null && CUSTOM_ROLE_IDS.includes(current) ? current : CUSTOM_ROLE_IDS[0]!;
  return null;
}

const DAY_MS = 86_400_000;
const HISTORY_MS = 6 * 365 * DAY_MS;
/** Generated records stay out of the sandbox's "most recent minute", whatever exclusionSeconds is. */
const NEWEST_MARGIN_MS = 3 * 60_000;
const BULK_BLOCK = 40;

export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function floorSec(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

function userRng(ctx: UserGenContext, i: number): Prng {
  return new Prng(hash32(ctx.seed, 0x5553, i));
}

/** Creation time of user i: monotone in i (ids and created_at grow together), denser in recent years. */
function createdMsFor(ctx: UserGenContext, i: number, firstDraw: number): number {
  const start = ctx.nowMs - HISTORY_MS;
  const x = (i + firstDraw * 0.999) / Math.max(1, ctx.count);
  return floorSec(Math.min(start + HISTORY_MS * Math.pow(x, 0.6), ctx.nowMs - NEWEST_MARGIN_MS - 60_000));
}

/**
 * What the store keeps of user i (the columns the endpoints filter and sort on) and the draws that decide
 * them: the first draws of the user's stream, so `generateUserColumns` can skip the rest of the record
 * (names, photos, text) and `generateUser` continues the same stream from here.
 */
export interface UserCore {
  id: number;
  createdMs: number;
  updatedMs: number;
  role: Role;
  roleType: RoleType;
  ticketRestriction: TicketRestriction;
  active: boolean;
  suspended: boolean;
  lastLoginMs: number | null;
}

function roleFor(ctx: UserGenContext, i: number, rng: Prng): Role {
  if (i === 0) return 'admin';
  if (ctx.seatHolders === undefined)
    return rng.weighted<Role>([
      ['end-user', 64],
      ['agent', 29],
      ['admin', 7],
    ]);
  // One draw, as above, so the rest of the record draws the same numbers. Seat holders are agents and
  // admins in the default mix's proportions (29 : 7).
  const draw = rng.next();
  if (!isSeatHolder(ctx.seed, i, ctx.count, ctx.seatHolders)) return 'end-user';
  return draw * 36 < 29 ? 'agent' : 'admin';
}

function userCore(ctx: UserGenContext, i: number, rng: Prng): UserCore {
  const isOwner = i === 0;
  const createdMs = createdMsFor(ctx, i, rng.next());
  const id = ctx.idBase + i * 7919 + Math.floor(rng.next() * 7000);
  const newestMs = ctx.nowMs - NEWEST_MARGIN_MS;

  const role = roleFor(ctx, i, rng);
  const staff = role !== 'end-user';

  let roleType: RoleType = null;
  if (role === 'agent')
    roleType = rng.weighted<RoleType>([
      [null, 25],
      [0, 25],
      [1, 25],
      [2, 10],
      [3, 15],
    ]);
  // Recorded admins always have role_type 4; billing admins 5. (One draw, like before, so the rest of the
  // record is unchanged.)
  else if (role === 'admin')
    roleType = isOwner
      ? 4
      : rng.weighted<RoleType>([
          [4, 90],
          [5, 10],
        ]);

  let ticketRestriction: TicketRestriction = null;
  if (role === 'end-user')
    ticketRestriction = rng.weighted<TicketRestriction>([
      ['requested', 85],
      ['organization', 15],
    ]);
  else if (role === 'agent') {
    ticketRestriction = rng.weighted<TicketRestriction>([
      [null, 55],
      ['groups', 22],
      ['assigned', 13],
      ['organization', 10],
    ]);
  }

  const drawnActive = isOwner ? true : !rng.chance(role === 'agent' ? 0.06 : 0.04);
  // With seatHolders the count is of seats held: generated seat holders are never deleted (tests delete
  // them with deleteUser). The draw is made anyway, so the rest of the record stays the same.
  const active = ctx.seatHolders !== undefined && staff ? true : drawnActive;
  const suspended = isOwner ? false : rng.chance(role === 'agent' ? 0.08 : role === 'admin' ? 0.03 : 0.03);

  let lastLoginMs: number | null;
  if (isOwner) lastLoginMs = newestMs - rng.int(0, 2 * DAY_MS);
  else if (rng.chance(staff ? 0.06 : 0.3))
    lastLoginMs = null; // never signed in
  else {
    const band = staff
      ? rng.weighted<[number, number]>([
          [[0, 30], 60],
          [[30, 180], 25],
          [[180, 2000], 15],
        ])
      : rng.weighted<[number, number]>([
          [[0, 30], 15],
          [[30, 365], 35],
          [[365, 2000], 50],
        ]);
    const ago = (band[0] + rng.next() * (band[1] - band[0])) * DAY_MS;
    lastLoginMs = Math.max(createdMs, newestMs - ago);
  }

  // A fifth of users come from bulk imports: whole blocks share one updated_at second, which
  // exercises the (updated_at, id) ordering of the cursor export.
  const block = Math.floor(i / BULK_BLOCK);
  let updatedMs: number;
  if (!isOwner && hash32(ctx.seed, 0xb01c, block) % 100 < 20) {
    const last = Math.min(ctx.count - 1, block * BULK_BLOCK + BULK_BLOCK - 1);
    const lastCreated = createdMsFor(ctx, last, userRng(ctx, last).next());
    const spread = Math.max(0, newestMs - lastCreated);
    updatedMs = floorSec(lastCreated + (hash32(ctx.seed, 0xb01d, block) / 4294967296) * spread);
  } else {
    updatedMs = floorSec(createdMs + rng.next() * Math.max(0, newestMs - createdMs));
  }
  updatedMs = Math.max(createdMs, Math.min(updatedMs, floorSec(newestMs)));
  return { id, createdMs, updatedMs, role, roleType, ticketRestriction, active, suspended, lastLoginMs };
}

/** The store's columns of user i, without building the record (what a million-user workspace holds). */
export function generateUserColumns(ctx: UserGenContext, i: number): UserCore {
  return userCore(ctx, i, userRng(ctx, i));
}

export function generateUser(ctx: UserGenContext, i: number): { data: UserData; updatedMs: number } {
  const rng = userRng(ctx, i);
  const isOwner = i === 0;
  const { id, createdMs, updatedMs, role, roleType, ticketRestriction, active, suspended, lastLoginMs } = userCore(ctx, i, rng);
  const staff = role !== 'end-user';
  // End users are "restricted" by definition; admins never are.
  const restrictedAgent = role === 'end-user' ? true : role === 'agent' ? ticketRestriction !== null : false;

  const tricky = !isOwner && rng.chance(0.03);
  const first = rng.pick(FIRST_NAMES);
  const last = rng.pick(LAST_NAMES);
  const name = tricky ? rng.pick(TRICKY_NAMES) : rng.chance(0.1) ? `${first} ${String.fromCharCode(65 + rng.int(0, 25))}. ${last}` : `${first} ${last}`;
  const email = isOwner ? `owner@${ctx.subdomain}.example.com` : `${emailSlug(tricky ? 'user' : `${first} ${last}`)}.${i}@${rng.pick(EMAIL_DOMAINS)}`;
  const baseUrl = ctx.baseUrl ?? `https://${ctx.subdomain}.zendesk.com`;
  const [timeZone, ianaTimeZone] = rng.pick(TIME_ZONES);
  const [locale, localeId] = rng.pick(LOCALES);
  const hasPhone = rng.chance(0.3);
  // Recorded records have two_factor_auth_enabled null, admins included; booleans appear on some agents.
  const twoFactor: boolean | null = isOwner
    ? null
    : staff
      ? rng.weighted<boolean | null>([
          [null, 60],
          [true, 25],
          [false, 15],
        ])
      : rng.weighted<boolean | null>([
          [null, 90],
          [false, 8],
          [true, 2],
        ]);
  // Fields added to match the recordings draw from their own stream, so the fields above stay as they were.
  const extra = new Prng(hash32(ctx.seed, 0x5554, i));
  const withoutEmail = !isOwner && role === 'end-user' && extra.chance(0.04);
  const profileText = extra.weighted<'null' | 'empty' | 'text'>([
    ['null', 80],
    ['empty', 12],
    ['text', 8],
  ]);
  const hasPhoto = extra.chance(staff ? 0.25 : 0.05);
  const emptyAlias = extra.chance(0.1);
  const fieldValues = extra.chance(0.3);

  const data: UserData = {
    id,
    name,
    email: withoutEmail ? null : email,
    created_at: isoSeconds(createdMs),
    time_zone: timeZone,
    iana_time_zone: ianaTimeZone,
    phone: hasPhone ? `+1-555-01${String(rng.int(0, 99)).padStart(2, '0')}` : null,
    shared_phone_number: hasPhone ? rng.chance(0.1) : null,
    photo: hasPhoto ? profilePhoto(baseUrl, ctx.seed, id) : null,
    locale_id: localeId,
    locale,
    organization_id: role === 'end-user' && rng.chance(0.6) ? 360_000_000_000 + rng.int(1, 500) * 1013 : null,
    role,
    verified: isOwner ? true : rng.chance(staff ? 0.97 : 0.75),
    external_id: rng.chance(0.2) ? `ext-${ctx.seed}-${i}` : null,
    tags: rng.chance(0.25) ? [rng.pick(['vip', 'beta', 'churn-risk', 'partner', 'legacy'])] : [],
    alias: staff && rng.chance(0.2) ? first : emptyAlias ? '' : null,
    active,
    shared: rng.chance(0.02),
    shared_agent: staff ? rng.chance(0.04) : false,
    last_login_at: lastLoginMs === null ? null : isoSeconds(lastLoginMs),
    two_factor_auth_enabled: twoFactor,
    signature: staff && rng.chance(0.5) ? `Best regards,\n${name}` : null,
    details: profileText === 'null' ? null : profileText === 'empty' ? '' : 'Prefers email; based in the Lisbon office.',
    notes: profileText === 'null' ? null : profileText === 'empty' ? '' : 'Renewal contact for the 2026 contract.',
    role_type: roleType,
    custom_role_id: role === 'agent' && roleType === 0 ? 360_000_100_000 + rng.int(1, 6) : role === 'admin' ? ADMIN_ROLE_ID : null,
    moderator: rng.chance(staff ? 0.2 : 0.01),
    ticket_restriction: ticketRestriction,
    only_private_comments: roleType === 1 ? rng.chance(0.5) : false,
    restricted_agent: restrictedAgent,
    suspended,
    default_group_id: staff ? 360_000_200_000 + rng.int(1, 12) : null,
    report_csv: role === 'admin' ? rng.chance(0.6) : role === 'agent' ? rng.chance(0.25) : false,
    chat_only: roleType === 2 && role === 'agent' ? rng.chance(0.9) : false,
    user_fields: userFields(fieldValues ? hash32(ctx.seed, 0xf1e1, i) : null),
  };
  return { data, updatedMs };
}

/** Every custom user field, with values for some users and null for the others (as recorded). */
function userFields(h: number | null): Record<string, unknown> {
  return {
    cost_center: h === null ? null : `CC-${100 + (h % 900)}`,
    contract_renewal: h === null ? null : `2026-${String(1 + (h % 12)).padStart(2, '0')}-01`,
    vip_customer: h === null ? false : h % 3 === 0,
  };
}

/** A blank user for addUser(): every field present, in Zendesk's order, sensible defaults. */
export function blankUser(id: number, createdMs: number): UserData {
  return {
    id,
    name: `User ${id}`,
    email: `user.${id}@example.com`,
    created_at: isoSeconds(createdMs),
    time_zone: 'UTC',
    iana_time_zone: 'Etc/UTC',
    phone: null,
    shared_phone_number: null,
    photo: null,
    locale_id: 1,
    locale: 'en-US',
    organization_id: null,
    role: 'end-user',
    verified: true,
    external_id: null,
    tags: [],
    alias: null,
    active: true,
    shared: false,
    shared_agent: false,
    last_login_at: null,
    two_factor_auth_enabled: null,
    signature: null,
    details: null,
    notes: null,
    role_type: null,
    custom_role_id: null,
    moderator: false,
    ticket_restriction: 'requested',
    only_private_comments: false,
    restricted_agent: true,
    suspended: false,
    default_group_id: null,
    report_csv: false,
    chat_only: false,
    user_fields: userFields(null),
  };
}
