import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, type ApiLimits } from '../../src/config';
import { parseBudget } from '../../src/api/limits/budget';
import { TokenBucket } from '../../src/api/limits/tokenBucket';
import { TenantGate } from '../../src/api/limits/tenantGate';
import { TenantLimits } from '../../src/api/limits/tenantLimits';
import { Tarpit } from '../../src/api/limits/tarpit';
import { neutralizeFormula } from '../../src/reports/formulaGuard';
import { csvField } from '../../src/reports/csv';

/** The arithmetic of the per-tenant budgets (src/api/limits), without a database: a clock is passed in. */

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const LIMITS: ApiLimits = {
  requests: { quota: 10, windowMs: 10_000 },
  reports: { quota: 2, windowMs: 60_000 },
  csv: undefined,
  integrations: { quota: 1, windowMs: 3_600_000 },
  csvConcurrency: 2,
  reportConcurrency: 2,
  tarpitMs: 1_000,
  syncIntervalMs: 1_000,
};

describe('budgets', () => {
  test('parse as quota per window; anything else is refused by the config with the variable named', () => {
    assert.deepEqual(parseBudget('600/10s'), { quota: 600, windowMs: 10_000 });
    assert.deepEqual(parseBudget('120/m'), { quota: 120, windowMs: 60_000 });
    assert.deepEqual(parseBudget('20 / 1h'), { quota: 20, windowMs: 3_600_000 });
    for (const bad of ['10', '0/1s', '10/0s', '10/1d', '10/25h', 'ten/1s', '10/500ms']) assert.equal(parseBudget(bad), undefined, bad);
    const config = loadConfig({ API_RATE_LIMIT_REPORTS: 'off', API_RATE_LIMIT_CSV: '5/1m', API_CSV_CONCURRENCY: '3' });
    assert.equal(config.apiLimits.reports, undefined);
    assert.deepEqual(config.apiLimits.csv, { quota: 5, windowMs: 60_000 });
    assert.deepEqual(config.apiLimits.requests, { quota: 600, windowMs: 10_000 }, 'default');
    assert.equal(config.apiLimits.csvConcurrency, 3);
    assert.equal(config.apiDatabase.statementTimeoutMs, 10_000);
    assert.equal(config.apiDatabase.csvStatementTimeoutMs, 120_000);
    assert.equal(config.apiDatabase.poolWaitMs, 3_000);
    assert.equal(config.reportCache.tenantMaxBytes, 16 * 1024 * 1024, 'a quarter of REPORT_CACHE_MAX_MB');
    assert.throws(
      () => loadConfig({ API_RATE_LIMIT_REQUESTS: 'lots', API_STATEMENT_TIMEOUT: '1h', REPORT_CACHE_MAX_MB: '8', REPORT_CACHE_TENANT_MAX_MB: '9' }),
      (err: Error & { problems?: string[] }) => {
        assert.deepEqual(err.problems!.map((p) => p.split(':')[0]).sort(), ['API_RATE_LIMIT_REQUESTS', 'API_STATEMENT_TIMEOUT']);
        return true;
      },
    );
    assert.throws(() => loadConfig({ REPORT_CACHE_MAX_MB: '8', REPORT_CACHE_TENANT_MAX_MB: '9' }), /REPORT_CACHE_TENANT_MAX_MB/);
  });
});

describe('TokenBucket', () => {
  test('spends its quota at once, then refills at quota per window; says when to retry', () => {
    const c = clock();
    const b = new TokenBucket({ quota: 10, windowMs: 10_000 }, 1, c.now());
    for (let i = 0; i < 10; i++) assert.equal(b.take(c.now()).allowed, true);
    const refused = b.take(c.now());
    assert.deepEqual(refused, { allowed: false, remaining: 0, resetSeconds: 1 });
    c.advance(999);
    assert.equal(b.take(c.now()).allowed, false);
    c.advance(1);
    const next = b.take(c.now());
    assert.equal(next.allowed, true);
    assert.equal(next.resetSeconds, 10, 'seconds until whole again');
    assert.equal(b.takeSpent(), 11);
  });

  test('a process sharing the bucket with another gets half the quota and half the rate, then its share of what is left', () => {
    const c = clock();
    const b = new TokenBucket({ quota: 10, windowMs: 10_000 }, 2, c.now());
    let allowed = 0;
    while (b.take(c.now()).allowed) allowed++;
    assert.equal(allowed, 5);
    c.advance(2_000);
    assert.equal(b.take(c.now()).allowed, true, 'half the rate: one token in 2 s');
    assert.equal(b.take(c.now()).allowed, false);
    // The shared bucket has 4 left after both processes' reports; one request here since the report.
    assert.equal(b.takeSpent(), 6, 'handed over at the reconciliation');
    b.reconcile(4, 2, c.now());
    assert.equal(b.take(c.now()).allowed, true);
    assert.equal(b.take(c.now()).allowed, true);
    assert.equal(b.take(c.now()).allowed, false);
    // A debt is carried: nothing until it is refilled (-4 shared, -2 this process's share, 1 token per 2 s).
    assert.equal(b.takeSpent(), 2);
    b.reconcile(-4, 2, c.now());
    c.advance(4_000);
    assert.equal(b.take(c.now()).allowed, false);
    c.advance(2_000);
    assert.equal(b.take(c.now()).allowed, true);
  });
});

describe('TenantLimits (one process, no database)', () => {
  test('per tenant and per budget; a budget that is off is not counted; refunds give back', () => {
    const c = clock();
    const limits = new TenantLimits({ limits: LIMITS, now: c.now });
    assert.equal(limits.take('t1', 'reports')!.allowed, true);
    assert.equal(limits.take('t1', 'reports')!.allowed, true);
    const refused = limits.take('t1', 'reports')!;
    assert.equal(refused.allowed, false);
    assert.equal(refused.resetSeconds, 30, 'one report per 30 s');
    assert.equal(refused.budget, 'reports');
    assert.equal(limits.take('t2', 'reports')!.allowed, true, 'another tenant has its own budget');
    assert.equal(limits.take('t1', 'requests')!.allowed, true, 'another budget of the same tenant');
    assert.equal(limits.take('t1', 'csv'), undefined, 'off');
    assert.equal(limits.take('t1', 'integrations')!.allowed, true);
    assert.equal(limits.take('t1', 'integrations')!.allowed, false);
    limits.refund('t1', 'integrations');
    assert.equal(limits.take('t1', 'integrations')!.allowed, true);
  });
});

describe('formula guard', () => {
  test('text that a spreadsheet would evaluate gets a leading quote; other text and numbers stay', () => {
    for (const text of ['=HYPERLINK("https://evil.example/x")', '+1+1', '-2+3', '@SUM(A1)', '\tx', '\rx', '＝1+1', '＋1', '－1', '＠x', '-5']) {
      assert.equal(neutralizeFormula(text), `'${text}`, JSON.stringify(text));
    }
    for (const text of ['Ada', ' =x', "'=x", '', '5-', 'a=b', '2024-01-01T00:00:00.000Z']) assert.equal(neutralizeFormula(text), text, JSON.stringify(text));
    assert.equal(csvField(-5), '-5', 'a number is not text');
    assert.equal(csvField('=1+1'), "'=1+1");
    assert.equal(csvField('=1+1', { raw: true }), '=1+1');
    assert.equal(csvField('=A1,"x"'), `"'=A1,""x"""`, 'quoted after the prefix');
    assert.equal(csvField('\r=1'), `"'\r=1"`);
  });
});

describe('TenantGate', () => {
  test('runs `concurrency` computations of a tenant at once, queues a few, refuses beyond; tenants apart', async () => {
    const gate = new TenantGate(2, 1);
    const a1 = await gate.enter('a')!;
    const a2 = await gate.enter('a')!;
    let third: (() => void) | undefined;
    const queued = gate.enter('a')!.then((release) => (third = release));
    assert.equal(gate.enter('a'), undefined, 'the queue is full');
    const b1 = await gate.enter('b')!;
    assert.deepEqual(gate.usage('a'), { running: 2, waiting: 1 });
    a1();
    a1(); // a second call changes nothing
    await queued;
    assert.ok(third);
    assert.deepEqual(gate.usage('a'), { running: 2, waiting: 0 });
    a2();
    third();
    b1();
    assert.deepEqual(gate.usage('a'), { running: 0, waiting: 0 });
    assert.deepEqual(gate.usage('b'), { running: 0, waiting: 0 });
  });
});

describe('cost-weighted reports budget', () => {
  test('a charge after the work may take the bucket into debt; requests wait until it is paid back', () => {
    const c = clock();
    const limits = new TenantLimits({ limits: { ...LIMITS, reports: { quota: 10, windowMs: 10_000 } }, now: c.now });
    assert.equal(limits.take('t', 'reports')!.allowed, true);
    limits.charge('t', 'reports', 14); // a 1.4 s computation: 15 units in all
    const refused = limits.take('t', 'reports')!;
    assert.equal(refused.allowed, false);
    assert.equal(refused.resetSeconds, 6, '-5 to +1 at one unit a second');
    c.advance(6_000);
    assert.equal(limits.take('t', 'reports')!.allowed, true);
  });
});

describe('Tarpit', () => {
  test('the first refusal at once; one that follows within two pauses waits a pause; a client that waited does not', () => {
    const c = clock();
    const tarpit = new Tarpit(1_000, c.now);
    assert.equal(tarpit.delayFor('t'), 0);
    c.advance(10);
    assert.equal(tarpit.delayFor('t'), 1_000);
    assert.equal(tarpit.delayFor('other'), 0, 'per tenant');
    c.advance(2_500);
    assert.equal(tarpit.delayFor('t'), 0, 'it waited');
    assert.equal(new Tarpit(0, c.now).delayFor('t'), 0);
  });
});
