import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createSyncActivities } from '../../src/activities/sync';
import type { ChunkInput, ChunkResult } from '../../src/activities/chunks/tools';
import type { EventsPlan } from '../../src/activities/ticketEventsPlan';
import { getCheckpoint } from '../../src/db/repositories/checkpoints';
import { findSyncRun, startSyncRun } from '../../src/db/repositories/syncRuns';
import type { Sandbox, TicketEventSummary } from '../../src/sandbox';
import { activityDeps } from '../helpers/activityDeps';
import { testDb } from '../helpers/db';
import { CLIENT, box, connectWorkspace, startTestSandbox, type Connected } from './helpers';

/**
 * The ticket-events sync chunk as Temporal runs it (a mock activity context, as in temporalio/samples-typescript)
 * against the run's PostgreSQL and the sandbox. The chunk asks for the next page while it writes the current
 * one (chunks/tools.ts, fetchAhead); these tests stop it in the middle — a cancellation, a failed write — and
 * check that what it leaves is exactly the pages it committed, and that the next attempt carries on from there.
 */

const db = testDb();
let sandbox: Sandbox;
before(async () => {
  sandbox = await startTestSandbox();
});
after(() => sandbox.close());

const EVENTS_PATH = '/api/v2/incremental/ticket_events';
const EVENTS_ENDPOINT = `GET ${EVENTS_PATH}`;
const PER_PAGE = 1000; // what the chunk asks for
const FIXTURE_SEED = 1;
/** A page that would take this long is never waited for: a test that waits it out fails on the time. */
const HANG_MS = 120_000;
/** An activity context whose SDK logger keeps quiet about the failures these tests cause on purpose. */
const activityEnv = () => new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });

interface Fixture extends Connected {
  input: ChunkInput;
  /** The workspace's events in export order (timestamp, id): all within the head's last 7 days. */
  events: TicketEventSummary[];
  activities: ReturnType<typeof createSyncActivities>;
}

async function fixture(prefix: string): Promise<Fixture> {
  // Rate limits off: these tests are about where the chunk stops, not about pacing. A fixed seed, so the
  // page layout is the same every run: with many seeds one of the generator's mass updates (1,000+ events in
  // one second) straddles page 1's end, page 2 is then that group again and holds nothing new to interrupt
  // (firstPages checks this one does not).
  const connected = await connectWorkspace(db, sandbox, prefix, { ticketEvents: 3_500, days: 5, rateLimits: false, seed: FIXTURE_SEED });
  const run = await startSyncRun(db, { integrationId: connected.integrationId, workflowId: `chunk-test-${randomUUID()}`, runId: randomUUID() });
  const deps = activityDeps({ db, box, baseUrlTemplate: sandbox.baseUrlTemplate, clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret });
  return {
    ...connected,
    input: { integrationId: connected.integrationId, syncRunId: run.id, maxMs: 120_000 },
    events: [...connected.ws.ticketEvents()],
    activities: createSyncActivities(deps),
  };
}

/**
 * One full export page as Zendesk pages it (sandbox README, "Ticket events"): from the first event at or after
 * `start`, `per_page` events, grown so that no timestamp group is split — so the page holds every event up to
 * the timestamp of its per_page-th (`through`), and the next page starts there (`checkpoint`); a full page all
 * of one second equal to `start` (one of the generator's mass updates) moves on one second past it instead.
 * `fresh` are the page's events that the page before (ending at `after`) did not hold.
 */
interface Page {
  checkpoint: number;
  through: number;
  fresh: TicketEventSummary[];
}
function pageFrom(events: TicketEventSummary[], start: number, after = -Infinity): Page {
  const first = events.findIndex((e) => e.timestamp >= start);
  assert.ok(first >= 0 && first + PER_PAGE < events.length, 'the fixture has a full page after this one');
  const through = events[first + PER_PAGE - 1]!.timestamp;
  const checkpoint = through === start ? start + 1 : through;
  return { checkpoint, through, fresh: events.filter((e) => e.timestamp > after && e.timestamp <= through) };
}

/** The first two pages, each holding events the one before did not (what these tests interrupt needs them). */
function firstPages(events: TicketEventSummary[]): [Page, Page] {
  const p1 = pageFrom(events, 0); // the head starts 7 days back, before every event
  const p2 = pageFrom(events, p1.checkpoint, p1.through);
  assert.ok(p2.fresh.length > 0, 'page 2 brings events page 1 did not hold');
  return [p1, p2];
}

/** An event of page 2 that page 1 did not hold: a trigger on it acts on page 2's write alone. */
const middleOf = (page: Page) => page.fresh[Math.floor(page.fresh.length / 2)]!;

async function storedEventIds(integrationId: string): Promise<number[]> {
  const rows = await db.selectFrom('ticket_events').select('event_id').where('integration_id', '=', integrationId).orderBy('event_id').execute();
  return rows.map((r) => Number(r.event_id));
}

const idsThrough = (events: TicketEventSummary[], page: Page) =>
  events
    .filter((e) => e.timestamp <= page.through)
    .map((e) => e.id)
    .sort((a, b) => a - b);

/** The stream's state after an interrupted attempt: exactly the pages up to `last`, with its checkpoint. */
async function assertCommittedUpTo(f: Fixture, last: Page): Promise<void> {
  const plan = JSON.parse((await getCheckpoint(db, f.integrationId, 'ticket_events'))!) as EventsPlan;
  assert.equal(plan.head, last.checkpoint, 'the checkpoint is where the page after the last committed one starts');
  assert.equal(plan.caughtUp, false);
  const stored = await storedEventIds(f.integrationId);
  assert.deepEqual(stored, idsThrough(f.events, last), 'the events stored are exactly those of the committed pages');
  const run = await findSyncRun(db, f.input.syncRunId);
  assert.equal(run?.ticket_events_synced, stored.length, 'the run counted each committed event once');
}

/** The next attempt, undisturbed, to the end: every event once, the run's count exact. */
async function assertNextAttemptCompletes(f: Fixture, storedBefore: number): Promise<ChunkResult> {
  const result: ChunkResult = await activityEnv().run(f.activities.syncTicketEventsChunk, f.input);
  assert.equal(result.done, true);
  assert.equal(result.records, f.events.length - storedBefore, 'the next attempt added only what was missing');
  assert.deepEqual(
    await storedEventIds(f.integrationId),
    f.events.map((e) => e.id).sort((a, b) => a - b),
  );
  const run = await findSyncRun(db, f.input.syncRunId);
  assert.equal(run?.ticket_events_synced, f.events.length);
  return result;
}

/** A BEFORE INSERT trigger on ticket_events for one event of one integration (`body` in PL/pgSQL); returns its removal. */
async function onInsertOf(integrationId: string, eventId: number, body: string): Promise<() => Promise<void>> {
  const name = `zw_test_${randomBytes(6).toString('hex')}`;
  await sql
    .raw(
      `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.integration_id = '${integrationId}' AND NEW.event_id = ${eventId} THEN ${body} END IF;
         RETURN NEW;
       END $$`,
    )
    .execute(db);
  await sql.raw(`CREATE TRIGGER ${name} BEFORE INSERT ON ticket_events FOR EACH ROW EXECUTE FUNCTION ${name}()`).execute(db);
  return async () => {
    await sql.raw(`DROP TRIGGER IF EXISTS ${name} ON ticket_events`).execute(db);
    await sql.raw(`DROP FUNCTION IF EXISTS ${name}()`).execute(db);
  };
}

describe('ticket-events chunk, interrupted', () => {
  test('cancelled while a page is being written: it stops at once with a CancelledFailure, that page committed whole, the next one not', async () => {
    const f = await fixture('chunk-cancel');
    const [, p2] = firstPages(f.events);
    // Pages 1 and 2 answer; page 3 — asked for while page 2 is written — would take HANG_MS.
    f.ws.injectFaults([
      { kind: 'slow', path: EVENTS_PATH, slowMs: 1, count: 2 },
      { kind: 'slow', path: EVENTS_PATH, slowMs: HANG_MS, count: 1 },
    ]);
    // Page 2's transaction lingers, so the cancellation lands inside it.
    const dropTrigger = await onInsertOf(f.integrationId, middleOf(p2).id, 'PERFORM pg_sleep(0.5);');
    const env = activityEnv();
    let cancelled = false;
    // The request for page 3 reaching the sandbox (its fault taken) means page 2 is being written.
    const watch = setInterval(() => {
      if (!cancelled && f.ws.pendingFaults() === 0) {
        cancelled = true;
        env.cancel();
      }
    }, 5);
    const started = Date.now();
    try {
      await assert.rejects(env.run(f.activities.syncTicketEventsChunk, f.input), (err: unknown) => err instanceof CancelledFailure);
    } finally {
      clearInterval(watch);
      await dropTrigger();
    }
    assert.ok(cancelled, 'the cancellation came mid-chunk');
    assert.ok(Date.now() - started < HANG_MS, 'the page in flight was abandoned, not waited for');
    await assertCommittedUpTo(f, p2);
    await assertNextAttemptCompletes(f, idsThrough(f.events, p2).length);
  });

  test('a failed write drops the page fetched meanwhile: the next attempt fetches again from the last committed checkpoint', async () => {
    const f = await fixture('chunk-write-fails');
    const [p1, p2] = firstPages(f.events);
    // Page 2's write fails (a PostgreSQL error inside its transaction); page 3 was already asked for meanwhile.
    const dropTrigger = await onInsertOf(f.integrationId, middleOf(p2).id, `RAISE EXCEPTION 'test: this write is refused';`);
    try {
      await assert.rejects(activityEnv().run(f.activities.syncTicketEventsChunk, f.input), /this write is refused/);
    } finally {
      await dropTrigger();
    }
    // Pages 1 and 2, and at least page 3 asked for while page 2 was written (how far the prefetch got before
    // the write failed depends on the machine's speed).
    assert.ok((f.ws.stats().byEndpoint[EVENTS_ENDPOINT] ?? 0) >= 3, 'page 3 was fetched while page 2 was written');
    await assertCommittedUpTo(f, p1);

    f.ws.resetStats();
    await assertNextAttemptCompletes(f, idsThrough(f.events, p1).length);
    // From page 1's end to the end of the stream, then one page for each older window (the backfill, empty here).
    assert.equal(f.ws.stats().byEndpoint[EVENTS_ENDPOINT], f.ws.ticketEventsPageCount(p1.checkpoint) + 2, 'fetched again from the checkpoint, page 2 included');
  });
});
