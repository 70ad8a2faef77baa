import type { z } from 'zod';
import { ROLE_FILTERS, ROLE_TYPE_FILTERS, SEATS, SORTS, USAGES } from '../reports/model';
import { escapeHtml, pageDocument } from './pageLayout';
import type { FieldError } from './problems';
import type { ReclaimableList, User, UserList, Utilization } from './reportSchemas';

/**
 * The utilization view (issue 19): a read-only page of one integration's seats that a platform opens or
 * embeds. It renders the API's own report bodies (`/utilization`, `/reclaimable`, `/users`: routes/viewPage.ts
 * asks the same computations), so every number on it is the API's. No script: the chart is an SVG drawn on
 * the server, the filters a GET form whose fields are `/users`'s query parameters, the CSV a link. Accessible:
 * the chart has a text alternative and its figures are also a table, every field has a label, errors name the
 * field they belong to and are announced (role=alert).
 */

type UtilizationBody = z.infer<typeof Utilization>;
type UserView = z.infer<typeof User>;

/** A stored `/utilization` report of a past sync (the trend). */
export interface TrendPoint {
  takenAt: string;
  paidSeats: UtilizationBody['paidSeats'];
  freeSeats: UtilizationBody['freeSeats'];
}

export interface ViewPageModel {
  tenantName: string;
  workspace: string;
  /** The page's own path (the form's action). */
  action: string;
  utilization: UtilizationBody;
  reclaimable: z.infer<typeof ReclaimableList>;
  /** The listing for the filters; undefined when they are not valid (`errors` says why). */
  users?: z.infer<typeof UserList>;
  /** The filters as given (empty fields left out): the form shows them. */
  filters: Record<string, string>;
  errors: FieldError[];
  csvHref?: string;
  nextHref?: string;
  trend: TrendPoint[];
}

const time = (iso: string | null, none = '—') =>
  iso === null ? none : `<time datetime="${escapeHtml(iso)}">${escapeHtml(iso.slice(0, 16).replace('T', ' '))} UTC</time>`;
const day = (iso: string | null) => (iso === null ? '—' : `<time datetime="${escapeHtml(iso)}">${escapeHtml(iso.slice(0, 10))}</time>`);
const yesNo = (v: boolean | null) => (v === null ? 'unknown' : v ? 'yes' : 'no');
const text = (v: string | null) => (v === null ? '—' : escapeHtml(v));
const money = (amount: number, currency: string) => `${escapeHtml(amount.toFixed(2))} ${escapeHtml(currency.toUpperCase())}`;

/** The chart colours (the legend's swatches in pageLayout.ts are the same). */
const FILL = { active: '#0b7a3e', inactive: '#b45309', suspended: '#b42318', free: '#6b7280' } as const;

/** The seats as one stacked bar: paid active, inactive, suspended, then free. */
function seatChart(u: UtilizationBody): string {
  const parts = [
    { key: 'active' as const, label: 'Paid, active', n: u.paidSeats.active },
    { key: 'inactive' as const, label: 'Paid, inactive', n: u.paidSeats.inactive },
    { key: 'suspended' as const, label: 'Paid, suspended', n: u.paidSeats.suspended },
    { key: 'free' as const, label: 'Free', n: u.freeSeats.total },
  ];
  const total = parts.reduce((sum, p) => sum + p.n, 0);
  let x = 0;
  const rects = parts
    .filter((p) => p.n > 0)
    .map((p) => {
      const width = (p.n / total) * 1000;
      const rect = `<rect x="${x.toFixed(2)}" y="0" width="${width.toFixed(2)}" height="40" fill="${FILL[p.key]}"></rect>`;
      x += width;
      return rect;
    })
    .join('');
  const summary = parts.map((p) => `${p.label}: ${p.n}`).join(', ');
  return `<svg class="chart" role="img" aria-labelledby="chart-title" viewBox="0 0 1000 40" preserveAspectRatio="none"><title id="chart-title">Seats. ${escapeHtml(summary)}</title>${rects}</svg>`;
}

function figures(u: UtilizationBody): string {
  const row = (key: string, swatch: string, label: string, n: number) =>
    `<tr><th scope="row"><span class="swatch c-${swatch}" aria-hidden="true"></span>${label}</th><td class="num" data-figure="${key}">${n}</td></tr>`;
  return `<table aria-label="Seats">
<thead><tr><th scope="col">Seats</th><th scope="col" class="num">Count</th></tr></thead>
<tbody>
${row('paid-active', 'active', 'Paid, active', u.paidSeats.active)}
${row('paid-inactive', 'inactive', 'Paid, inactive', u.paidSeats.inactive)}
${row('paid-suspended', 'suspended', 'Paid, suspended', u.paidSeats.suspended)}
<tr><th scope="row">Paid, total</th><td class="num" data-figure="paid-total">${u.paidSeats.total}</td></tr>
${row('free-total', 'free', 'Free (light agents, contributors)', u.freeSeats.total)}
<tr><th scope="row">Seat not known</th><td class="num" data-figure="unknown-total">${u.unknownSeats.total}</td></tr>
<tr><th scope="row">Reclaimable (suspended or inactive paid seats)</th><td class="num" data-figure="reclaimable">${u.reclaimable.count}</td></tr>
</tbody></table>`;
}

/** The report's own link to the seats in use (`/users?…`), as this view with the same filters. */
const keepHref = (apiLink: string, action: string) => `${action}${apiLink.slice(apiLink.indexOf('?'))}`;

function savings(u: UtilizationBody, action: string): string {
  const s = u.savings;
  if (!s) return '<p class="hint" id="savings-none">Set a seat price in the integration’s settings to see a savings estimate.</p>';
  const per = escapeHtml(s.seatPrice.per);
  const renewal = s.renewal
    ? `<li>Renewal on ${escapeHtml(s.renewal.date)}: buy <strong data-figure="recommended-seats">${s.renewal.recommendedSeats}</strong> seats (${s.renewal.seatsInUse} in use plus a buffer of ${s.renewal.buffer})${
        s.renewal.seatsToDrop === null
          ? ''
          : `, <span data-figure="seats-to-drop">${s.renewal.seatsToDrop}</span> fewer than the ${s.renewal.purchasedSeats} bought`
      }. <a id="keep" href="${escapeHtml(keepHref(s.renewal.keep.users, action))}">The ${s.renewal.seatsInUse} agents to keep</a> (choose them in Zendesk when lowering the seat count).</li>`
    : '';
  return `<ul id="savings">
<li>Reclaiming the <span data-figure="savings-seats">${s.potential.seats}</span> reclaimable seats saves <strong data-figure="savings-potential">${money(s.potential.amount, s.seatPrice.currency)}</strong> per ${per} (at ${money(s.seatPrice.amount, s.seatPrice.currency)} per seat).</li>
<li>Already saved by reclamations: <span data-figure="savings-realized-seats">${s.realized.seats}</span> seats, <span data-figure="savings-realized">${money(s.realized.amount, s.seatPrice.currency)}</span> per ${per}.</li>
${renewal}
</ul>`;
}

/** The paid seats at each sync as stacked columns (active, inactive, suspended), oldest left. */
function trendChart(points: TrendPoint[]): string {
  const max = Math.max(1, ...points.map((p) => p.paidSeats.total));
  const step = 1000 / points.length;
  const columns = points
    .map((p, i) => {
      let y = 100;
      return (['active', 'inactive', 'suspended'] as const)
        .map((k) => {
          const h = (p.paidSeats[k] / max) * 100;
          y -= h;
          return h > 0
            ? `<rect x="${(i * step + step * 0.15).toFixed(2)}" y="${y.toFixed(2)}" width="${(step * 0.7).toFixed(2)}" height="${h.toFixed(2)}" fill="${FILL[k]}"></rect>`
            : '';
        })
        .join('');
    })
    .join('');
  const summary = points.map((p) => `${p.takenAt.slice(0, 16).replace('T', ' ')}: ${p.paidSeats.active} active of ${p.paidSeats.total} paid`).join('; ');
  return `<svg class="trend-chart" role="img" aria-labelledby="trend-title" viewBox="0 0 1000 100" preserveAspectRatio="none"><title id="trend-title">Paid seats at the last syncs. ${escapeHtml(summary)}</title>${columns}</svg>`;
}

function trend(points: TrendPoint[]): string {
  if (points.length < 2) return '<p class="hint">The trend shows once the integration has synced more than once.</p>';
  const rows = points
    .map(
      (p) =>
        `<tr><td>${time(p.takenAt)}</td><td class="num">${p.paidSeats.total}</td><td class="num">${p.paidSeats.active}</td><td class="num">${p.paidSeats.inactive}</td><td class="num">${p.paidSeats.suspended}</td><td class="num">${p.freeSeats.total}</td></tr>`,
    )
    .join('\n');
  return `${trendChart(points)}<table id="trend" aria-label="Seats at the last syncs">
<thead><tr><th scope="col">Synced</th><th scope="col" class="num">Paid</th><th scope="col" class="num">Active</th><th scope="col" class="num">Inactive</th><th scope="col" class="num">Suspended</th><th scope="col" class="num">Free</th></tr></thead>
<tbody>
${rows}
</tbody></table>`;
}

function reclaimable(list: ViewPageModel['reclaimable']): string {
  if (list.total === 0) return '<p>No paid seat is suspended or inactive.</p>';
  const rows = list.users
    .map(
      (u) =>
        `<tr data-user-id="${u.id}"><td>${text(u.name)}</td><td>${text(u.email)}</td><td>${escapeHtml(u.reason)}</td><td>${escapeHtml(u.seatReason)}</td><td>${time(u.lastActivityAt, 'never')}</td></tr>`,
    )
    .join('\n');
  const more = list.total > list.users.length ? `<p class="hint">The ${list.users.length} least recently active of ${list.total}.</p>` : '';
  return `<table id="reclaimable" aria-label="Reclaimable seats">
<thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Reason</th><th scope="col">Seat</th><th scope="col">Last activity</th></tr></thead>
<tbody>
${rows}
</tbody></table>${more}`;
}

const SORT_WORDS: Record<string, string> = {
  name: 'Name (A–Z)',
  '-name': 'Name (Z–A)',
  createdAt: 'Created (oldest first)',
  '-createdAt': 'Created (newest first)',
  lastLoginAt: 'Last login (oldest first)',
  '-lastLoginAt': 'Last login (newest first)',
  lastActivityAt: 'Last activity (oldest first)',
  '-lastActivityAt': 'Last activity (newest first)',
  ticketInteractions: 'Ticket updates (fewest first)',
  '-ticketInteractions': 'Ticket updates (most first)',
};

function filterForm(m: ViewPageModel): string {
  const errorOf = (name: string) => m.errors.find((e) => e.name === name);
  const attrs = (name: string) => (errorOf(name) ? ` aria-invalid="true" aria-describedby="filter-errors"` : '');
  const select = (name: string, label: string, options: ReadonlyArray<readonly [string, string]>) => {
    const current = m.filters[name] ?? '';
    const opts = [['', 'Any'] as const, ...options]
      .map(([value, words]) => `<option value="${escapeHtml(value)}"${value === current ? ' selected' : ''}>${escapeHtml(words)}</option>`)
      .join('');
    return `<div><label for="f-${name}">${label}</label><select id="f-${name}" name="${name}"${attrs(name)}>${opts}</select></div>`;
  };
  const values = (list: readonly string[]) => list.map((v) => [v, v] as const);
  const flag = (name: string, label: string) =>
    select(name, label, [
      ['true', 'Yes'],
      ['false', 'No'],
    ]);
  const input = (name: string, label: string, type: string, extra = '') =>
    `<div><label for="f-${name}">${label}</label><input type="${type}" id="f-${name}" name="${name}" value="${escapeHtml(m.filters[name] ?? '')}"${extra}${attrs(name)}></div>`;
  const errors = m.errors.length
    ? `<div id="filter-errors" role="alert"><p class="error">These filters are not valid:</p><ul>${m.errors
        .map((e) => `<li class="error">${escapeHtml(e.name)} ${escapeHtml(e.reason)}</li>`)
        .join('')}</ul></div>`
    : '';
  return `<form method="get" action="${escapeHtml(m.action)}" class="filters" aria-label="Filters">
${select('role', 'Role', values(ROLE_FILTERS))}
${select('roleType', 'Role type', values(ROLE_TYPE_FILTERS))}
${select('seat', 'Seat', values(SEATS))}
${flag('suspended', 'Suspended')}
${flag('restrictedAgent', 'Restricted')}
${flag('twoFactorAuthEnabled', '2FA enabled')}
${flag('verified', 'Verified')}
${input('createdAfter', 'Created from', 'date')}
${input('createdBefore', 'Created before', 'date')}
${select('usage', 'Usage', values(USAGES))}
${input('inactiveDays', 'Usage window (days)', 'number', ' min="1" inputmode="numeric"')}
${input('q', 'Name or email', 'search')}
${select(
  'sort',
  'Sort',
  SORTS.map((s) => [s, SORT_WORDS[s] ?? s] as const),
)}
<div><button type="submit" id="apply">Apply</button></div>
</form>
${errors}`;
}

function userRow(u: UserView): string {
  const cells = [
    text(u.name),
    text(u.email),
    text(u.role),
    text(u.roleType),
    escapeHtml(u.seat),
    yesNo(u.suspended),
    yesNo(u.restrictedAgent),
    yesNo(u.twoFactorAuthEnabled),
    yesNo(u.verified),
    day(u.createdAt),
    time(u.lastLoginAt, 'never'),
    time(u.lastActivityAt, 'never'),
    escapeHtml(u.usage),
  ];
  return `<tr data-user-id="${u.id}">${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
}

function usersTable(m: ViewPageModel): string {
  if (!m.users) return '';
  const list = m.users;
  const heads = ['Name', 'Email', 'Role', 'Role type', 'Seat', 'Suspended', 'Restricted', '2FA', 'Verified', 'Created', 'Last login', 'Last activity', 'Usage'];
  const csv = m.csvHref ? ` <a id="csv" href="${escapeHtml(m.csvHref)}" download>Download these ${list.total} users as CSV</a>` : '';
  const next = m.nextHref ? `<p><a id="next-page" href="${escapeHtml(m.nextHref)}">Next ${escapeHtml(String(list.users.length))} users</a></p>` : '';
  return `<p id="users-total"><span data-figure="users-total">${list.total}</span> user${list.total === 1 ? '' : 's'} match${list.total === 1 ? 'es' : ''}.${csv}</p>
<div class="scroll" role="region" aria-label="Users table" tabindex="0"><table id="users" aria-label="Users">
<thead><tr>${heads.map((h) => `<th scope="col">${h}</th>`).join('')}</tr></thead>
<tbody>
${list.users.map(userRow).join('\n')}
</tbody></table></div>
${next}`;
}

export function viewPage(m: ViewPageModel): string {
  const u = m.utilization;
  const workspace = escapeHtml(m.workspace);
  return pageDocument(
    `Zendesk seats · ${m.workspace}`,
    `<main>
<p class="tile" aria-hidden="true">Zendesk</p>
<h1>Zendesk seats of ${workspace}</h1>
<p id="synced">${u.lastSyncedAt ? `Last synced ${time(u.lastSyncedAt)}` : 'Not synced yet'}. Activity judged ${time(u.asOf)} over ${u.inactiveDays} days (${escapeHtml(u.usageBasis)}). Shown for ${escapeHtml(m.tenantName)}.</p>
<h2>Seats</h2>
${seatChart(u)}
${figures(u)}
<h2>Savings</h2>
${savings(u, m.action)}
<h2>Trend</h2>
${trend(m.trend)}
<h2>Reclaimable seats</h2>
${reclaimable(m.reclaimable)}
<h2>Users</h2>
${filterForm(m)}
${usersTable(m)}
</main>`,
    '',
    'wide',
  );
}

/** The page of a link that cannot be used (unknown, expired): what happened and what to do, nothing else. */
export function viewLinkPage(title: string, message: string): string {
  return pageDocument(title, `<main><h1 class="failed">${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></main>`);
}
