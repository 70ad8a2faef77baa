import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sql, type Kysely } from 'kysely';
import { createDb } from '../../src/db/database';
import type { Database } from '../../src/db/tables';
import { createTestIntegration, testDb } from '../helpers/db';

/**
 * `zendesk_user_activity` (each user's newest ticket event, kept by triggers on ticket_events) must equal
 * `max(occurred_at) GROUP BY user` after any mix of inserts, replays, updates and deletes, including
 * concurrent transactions. Checked against the real database.
 */

const db = testDb();
const T = (minutes: number) => new Date(Date.UTC(2026, 0, 1) + minutes * 60_000);

async function insertEvents(conn: Kysely<Database>, integrationId: string, events: Array<[eventId: number, userId: number, minute: number]>) {
  if (events.length === 0) return;
  await conn
    .insertInto('ticket_events')
    .values(events.map(([event_id, user_id, minute]) => ({ integration_id: integrationId, event_id, ticket_id: 1, user_id, occurred_at: T(minute) })))
    .onConflict((oc) => oc.columns(['integration_id', 'event_id']).doNothing())
    .execute();
}

/** The table as the triggers keep it, and as it should be. */
async function activity(integrationId: string) {
  const { rows: kept } = await sql<{ user_id: number; last_event_at: Date }>`
    SELECT user_id, last_event_at FROM zendesk_user_activity WHERE integration_id = ${integrationId}::uuid ORDER BY user_id`.execute(db);
  const { rows: truth } = await sql<{ user_id: number; last_event_at: Date }>`
    SELECT user_id, max(occurred_at) AS last_event_at FROM ticket_events WHERE integration_id = ${integrationId}::uuid GROUP BY user_id ORDER BY user_id`.execute(
    db,
  );
  return { kept: kept.map((r) => [r.user_id, r.last_event_at.toISOString()]), truth: truth.map((r) => [r.user_id, r.last_event_at.toISOString()]) };
}

async function assertExact(integrationId: string) {
  const { kept, truth } = await activity(integrationId);
  assert.deepEqual(kept, truth);
  return kept;
}

describe('zendesk_user_activity', () => {
  test('inserts, replays and older events', async () => {
    const { integrationId } = await createTestIntegration(db, 'activity-basic');
    await insertEvents(db, integrationId, [
      [1, 100, 10],
      [2, 100, 20],
      [3, 200, 5],
    ]);
    assert.deepEqual(await assertExact(integrationId), [
      [100, T(20).toISOString()],
      [200, T(5).toISOString()],
    ]);
    await insertEvents(db, integrationId, [
      [1, 100, 10],
      [2, 100, 20],
    ]); // a replayed page
    await insertEvents(db, integrationId, [
      [4, 100, 15],
      [5, 200, 1],
    ]); // older events arrive late (backfill)
    assert.deepEqual(await assertExact(integrationId), [
      [100, T(20).toISOString()],
      [200, T(5).toISOString()],
    ]);
    await insertEvents(db, integrationId, [
      [6, 200, 30],
      [7, -1, 31],
    ]); // system updates (-1) are kept like any updater
    await assertExact(integrationId);
  });

  test('deletes and updates recompute; a user without events loses the row', async () => {
    const { integrationId } = await createTestIntegration(db, 'activity-delete');
    await insertEvents(db, integrationId, [
      [1, 100, 10],
      [2, 100, 20],
      [3, 200, 5],
      [4, 300, 7],
    ]);
    await db.deleteFrom('ticket_events').where('integration_id', '=', integrationId).where('event_id', '=', 2).execute();
    assert.deepEqual(await assertExact(integrationId), [
      [100, T(10).toISOString()],
      [200, T(5).toISOString()],
      [300, T(7).toISOString()],
    ]);
    await db.deleteFrom('ticket_events').where('integration_id', '=', integrationId).where('user_id', '=', 300).execute();
    assert.deepEqual(
      (await assertExact(integrationId)).map(([u]) => u),
      [100, 200],
    );
    await db.updateTable('ticket_events').set({ user_id: 400 }).where('integration_id', '=', integrationId).where('event_id', '=', 3).execute();
    assert.deepEqual(
      (await assertExact(integrationId)).map(([u]) => u),
      [100, 400],
    );
    await db
      .updateTable('ticket_events')
      .set({ occurred_at: T(1) })
      .where('integration_id', '=', integrationId)
      .where('event_id', '=', 1)
      .execute();
    assert.deepEqual(await assertExact(integrationId), [
      [100, T(1).toISOString()],
      [400, T(5).toISOString()],
    ]);
  });

  test('a purge and an integration deletion leave nothing behind', async () => {
    const a = await createTestIntegration(db, 'activity-purge-a');
    const b = await createTestIntegration(db, 'activity-purge-b');
    await insertEvents(db, a.integrationId, [
      [1, 100, 10],
      [2, 101, 11],
    ]);
    await insertEvents(db, b.integrationId, [[1, 100, 12]]);
    await db.deleteFrom('ticket_events').where('integration_id', '=', a.integrationId).execute();
    assert.deepEqual(await assertExact(a.integrationId), []);
    assert.deepEqual(await assertExact(b.integrationId), [[100, T(12).toISOString()]]);
    await db.deleteFrom('integrations').where('id', '=', b.integrationId).execute();
    const { rows } = await sql`SELECT 1 FROM zendesk_user_activity WHERE integration_id = ${b.integrationId}::uuid`.execute(db);
    assert.equal(rows.length, 0);
  });

  test('any sequence of inserts, replays, updates and deletes keeps it exact', async () => {
    const { integrationId } = await createTestIntegration(db, 'activity-property');
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('insert' as const),
        events: fc.array(fc.tuple(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 500 })), { maxLength: 12 }),
      }),
      fc.record({ kind: fc.constant('delete' as const), from: fc.integer({ min: 1, max: 60 }), to: fc.integer({ min: 1, max: 60 }) }),
      fc.record({
        kind: fc.constant('move' as const),
        event: fc.integer({ min: 1, max: 60 }),
        user: fc.integer({ min: 1, max: 6 }),
        minute: fc.integer({ min: 0, max: 500 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 8 }), async (ops) => {
        await db.deleteFrom('ticket_events').where('integration_id', '=', integrationId).execute();
        for (const o of ops) {
          if (o.kind === 'insert') {
            // One statement may not carry an event id twice; the sync's pages never do either.
            const unique = [...new Map(o.events.map((e) => [e[0], e])).values()];
            await insertEvents(db, integrationId, unique);
          } else if (o.kind === 'delete') {
            await db
              .deleteFrom('ticket_events')
              .where('integration_id', '=', integrationId)
              .where('event_id', '>=', Math.min(o.from, o.to))
              .where('event_id', '<=', Math.max(o.from, o.to))
              .execute();
          } else {
            await db
              .updateTable('ticket_events')
              .set({ user_id: o.user, occurred_at: T(o.minute) })
              .where('integration_id', '=', integrationId)
              .where('event_id', '=', o.event)
              .execute();
          }
          await assertExact(integrationId);
        }
      }),
      { numRuns: 40 },
    );
  });

  test('concurrent inserts for one user: the newest event wins, whichever transaction locks first', async () => {
    const { integrationId } = await createTestIntegration(db, 'activity-concurrent');
    // A second pool: two transactions open at once.
    const other = createDb(process.env.DATABASE_URL!, 1);
    try {
      let base = 1000;
      for (const [first, later, existing] of [
        [100, 50, true],
        [50, 100, true],
        [100, 50, false],
        [50, 100, false],
      ] as const) {
        await db.deleteFrom('ticket_events').where('integration_id', '=', integrationId).execute();
        if (existing) await insertEvents(db, integrationId, [[1, 7, 10]]);
        base += 10;
        let release!: () => void;
        const mayCommit = new Promise<void>((r) => (release = r));
        let inserted!: () => void;
        const hasInserted = new Promise<void>((r) => (inserted = r));
        // A inserts `first` and stays open; B inserts `later` meanwhile, its trigger waiting on A's row lock.
        const a = other.transaction().execute(async (trx) => {
          await insertEvents(trx, integrationId, [[base + 1, 7, first]]);
          inserted();
          await mayCommit;
        });
        await hasInserted;
        const b = insertEvents(db, integrationId, [[base + 2, 7, later]]);
        await new Promise((r) => setTimeout(r, 150));
        release();
        await Promise.all([a, b]);
        assert.deepEqual(await assertExact(integrationId), [[7, T(100).toISOString()]], `${first} then ${later}${existing ? '' : ', no row before'}`);
      }
    } finally {
      await other.destroy();
    }
  });

  test('a delete concurrent with an insert for the same user stays exact', async () => {
    const { integrationId } = await createTestIntegration(db, 'activity-delete-insert');
    const c1 = createDb(process.env.DATABASE_URL!, 1);
    try {
      await insertEvents(db, integrationId, [
        [1, 7, 10],
        [2, 7, 20],
      ]);
      let release!: () => void;
      const mayCommit = new Promise<void>((r) => (release = r));
      let inserted!: () => void;
      const hasInserted = new Promise<void>((r) => (inserted = r));
      const writer = c1.transaction().execute(async (trx) => {
        await insertEvents(trx, integrationId, [[3, 7, 30]]);
        inserted();
        await mayCommit;
      });
      await hasInserted;
      // The delete's recompute waits for the inserter's row lock, then sees its event.
      const deleting = db.deleteFrom('ticket_events').where('integration_id', '=', integrationId).where('event_id', '=', 2).execute();
      await new Promise((r) => setTimeout(r, 200));
      release();
      await Promise.all([writer, deleting]);
      assert.deepEqual(await assertExact(integrationId), [[7, T(30).toISOString()]]);
    } finally {
      await c1.destroy();
    }
  });
});
