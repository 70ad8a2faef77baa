/**
 * Scenario 11: webhooks under fan-out (issue 18). Two rounds of `workspaces` workspaces connected at once and
 * synced by one fresh worker each: first with no webhook endpoint (the reference), then with an endpoint
 * subscribed to every event, at a healthy receiver in this process. Reported: each round's time from the
 * first connect to the last first sync finished (their ratio: webhooks must not slow syncs beyond the
 * noise), and for the second round every event's lag from its commit (webhook_events.created_at, the
 * database's clock at the insert) to its arrival at the receiver — p50, p99 (target under 1 s), max — and
 * that none was lost.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { log, sleep, type Harness } from '../harness';
import { fmt, secs, type Scenario } from '../context';
import { RELAY_LEASE_MS } from '../../src/webhooks/relay';
import { connectReloading, waitForFirstSyncs } from './fanout';

interface Round {
  ids: string[];
  totalMs: number;
}

/** Connects `names` at once with a fresh worker, waits for every first sync to finish, then runs `meanwhile` before the worker stops. */
async function round<T>(h: Harness, names: string[], meanwhile: () => Promise<T>): Promise<Round & { then: T }> {
  const worker = await h.startWorker();
  try {
    const started = performance.now();
    const ids = (await Promise.all(names.map((n) => connectReloading(h, n)))).map((c) => c.id);
    await waitForFirstSyncs(h, ids, 'webhooks');
    const totalMs = performance.now() - started;
    return { ids, totalMs, then: await meanwhile() };
  } finally {
    await worker.stop();
  }
}

/** A healthy receiver: 204 at once, each arrival's time by webhook-id (the first one counts; later ones are duplicates). */
async function startReceiver() {
  const arrivals = new Map<string, number>();
  let duplicates = 0;
  const server = createServer((req, res) => {
    const id = String(req.headers['webhook-id'] ?? '');
    const at = Date.now();
    req.resume();
    req.on('end', () => {
      if (arrivals.has(id)) duplicates++;
      else arrivals.set(id, at);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    arrivals,
    duplicates: () => duplicates,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? NaN;

export const webhooks: Scenario = {
  name: 'webhooks',
  title: '11. Webhooks under fan-out',
  async run(ctx) {
    const { h, preset } = ctx;
    const { workspaces, users, events } = preset.webhooks;
    const names = (round: string) => Array.from({ length: workspaces }, (_, i) => `hooks-${round}-${String(i).padStart(4, '0')}`);
    for (const [r, list] of [names('off'), names('on')].entries()) {
      for (const [i, subdomain] of list.entries())
        h.sandbox.createWorkspace({ subdomain, users, ticketEvents: events, seed: 5_000 + r * 1_000 + i, consentMode: 'allow' });
    }

    log(`webhooks: ${workspaces} workspaces at once, no endpoint (reference)`);
    const off = await round(h, names('off'), async () => undefined);

    const receiver = await startReceiver();
    try {
      const endpoint = await h.api('POST', '/v1/webhook-endpoints', { url: receiver.url }, h.tenantKey);
      if (endpoint.status !== 201) throw new Error(`creating the endpoint failed: ${endpoint.status} ${endpoint.text}`);
      const since = new Date();
      log(`webhooks: ${workspaces} workspaces at once, an endpoint subscribed to every event`);
      // Every event recorded for this round, and when (the database's clock at its insert, in its transaction).
      const recorded = async () =>
        h.db
          .selectFrom('webhook_events')
          .select(['id', 'type', sql<number>`(extract(epoch from created_at) * 1000)::float8`.as('at')])
          .where('created_at', '>=', since)
          .execute();
      // Events keep coming for a moment after the last sync (utilization, status): wait, worker still up, until all arrived.
      const on = await round(h, names('on'), async () => {
        const deadline = Date.now() + 120_000;
        let found = await recorded();
        while (found.some((r) => !receiver.arrivals.has(r.id)) && Date.now() < deadline) {
          await sleep(250);
          found = await recorded();
        }
        return found;
      });
      const rows = on.then;
      // Where the time goes: recorded → picked by a relay (its lease's start) → the relay's first attempt answered
      // and recorded → its workflow started (after the receiver has the event: not part of the lag).
      const stages = await h.db
        .selectFrom('webhook_deliveries as d')
        .innerJoin('webhook_attempts as a', (j) => j.onRef('a.delivery_id', '=', 'd.id').on('a.attempt', '=', 1))
        .select([
          sql<number>`(extract(epoch from (d.relay_claimed_until - ${RELAY_LEASE_MS} * interval '1 millisecond') - d.created_at) * 1000)::float8`.as('pick'),
          sql<number>`(extract(epoch from a.at - (d.relay_claimed_until - ${RELAY_LEASE_MS} * interval '1 millisecond')) * 1000)::float8`.as('attempt'),
          sql<number>`(extract(epoch from d.workflow_started_at - a.at) * 1000)::float8`.as('start'),
        ])
        .where('d.created_at', '>=', since)
        .where('d.workflow_started_at', 'is not', null)
        .where('d.relay_claimed_until', 'is not', null)
        .execute();
      const sorted = (k: 'pick' | 'attempt' | 'start') => stages.map((r) => r[k]).sort((a, b) => a - b);
      const [pickMs, attemptMs, startMs] = [sorted('pick'), sorted('attempt'), sorted('start')];
      const p50p99 = (xs: number[]) => `${Math.round(pct(xs, 0.5))} / ${Math.round(pct(xs, 0.99))} ms`;
      const lost = rows.filter((r) => !receiver.arrivals.has(r.id)).length;
      const lags = rows
        .filter((r) => receiver.arrivals.has(r.id))
        .map((r) => receiver.arrivals.get(r.id)! - r.at)
        .sort((a, b) => a - b);
      const byType: Record<string, number> = {};
      for (const r of rows) byType[r.type] = (byType[r.type] ?? 0) + 1;
      const ratio = on.totalMs / off.totalMs;
      const p99 = pct(lags, 0.99);
      log(`webhooks: ${rows.length} events, p99 ${Math.round(p99)} ms, syncs ${secs(on.totalMs)} vs ${secs(off.totalMs)} without`);
      return {
        title: this.title,
        metrics: {
          workspaces,
          usersPerWorkspace: users,
          eventsPerWorkspace: events,
          withoutWebhooksMs: off.totalMs,
          withWebhooksMs: on.totalMs,
          ratio,
          events: rows.length,
          byType,
          lost,
          duplicates: receiver.duplicates(),
          lagMs: { p50: pct(lags, 0.5), p99, max: lags.at(-1) },
          pickMs: { p50: pct(pickMs, 0.5), p99: pct(pickMs, 0.99) },
          relayAttemptMs: { p50: pct(attemptMs, 0.5), p99: pct(attemptMs, 0.99) },
          answerToWorkflowStartMs: { p50: pct(startMs, 0.5), p99: pct(startMs, 0.99) },
        },
        rows: [
          { metric: 'workspaces per round', value: `${workspaces} × ${fmt(users)} users, ${fmt(events)} ticket events, one fresh worker each` },
          { metric: 'first connect → last first sync, no endpoint (reference)', value: secs(off.totalMs) },
          {
            metric: 'the same with an endpoint subscribed to every event',
            value: `${secs(on.totalMs)} (× ${ratio.toFixed(2)})`,
            target: '≤ × 1.10 (noise)',
            met: ratio <= 1.1,
          },
          {
            metric: 'events delivered',
            value: `${rows.length - lost}/${rows.length} (${Object.entries(byType)
              .map(([t, n]) => `${t} ${n}`)
              .join(', ')}); duplicates ${receiver.duplicates()}`,
            target: 'none lost',
            met: lost === 0,
          },
          {
            metric: 'commit → arrival at the receiver, p50 / p99 / max',
            value: `${Math.round(pct(lags, 0.5))} / ${Math.round(p99)} / ${Math.round(lags.at(-1) ?? NaN)} ms`,
            target: 'p99 < 1 s',
            met: p99 < 1_000,
          },
          {
            metric: 'of it: recorded → picked by the relay, p50 / p99; picked → its first attempt answered and recorded, p50 / p99',
            value: `${p50p99(pickMs)}; ${p50p99(attemptMs)}`,
          },
          { metric: 'then (after the arrival): answer recorded → delivery workflow started, p50 / p99', value: p50p99(startMs) },
        ],
      };
    } finally {
      await receiver.close();
    }
  },
};
