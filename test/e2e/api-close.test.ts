import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { CHANGE_FEED_APPLICATION_NAME } from '../../src/db/changeFeed';
import { testDb } from '../helpers/db';
import { startSystem, waitFor, type System } from '../helpers/system';

/**
 * Stopping a test system closes each of its API apps (the first one and any `redeployApi` made), and an
 * app's close path ends its report cache's LISTEN connection (src/api/cache/changeFeed.ts): nothing of
 * the system stays connected to the run's database.
 */
let system: System | undefined;
after(async () => {
  await system?.stop();
});

/** The report caches' LISTEN sessions on the run's database (one test system per file at a time). */
const listeners = async () =>
  (
    await sql<{ pid: number; query: string }>`
      SELECT pid, query FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = ${CHANGE_FEED_APPLICATION_NAME}`.execute(testDb())
  ).rows;

test('a stopped test system leaves no report cache LISTEN connection of its apps behind', async () => {
  assert.deepEqual(await listeners(), [], 'no listener before the system starts');
  system = await startSystem({ inProcessWorker: false });
  // A session shows in pg_stat_activity as soon as it connects, a moment before its LISTEN: wait for that.
  const listening = async () => (await listeners()).filter((l) => l.query === 'LISTEN report_changes').length;
  await waitFor('the first app to listen', async () => (await listening()) === 1, 15_000);
  system.redeployApi({});
  await waitFor('the redeployed app to listen too', async () => (await listening()) === 2, 15_000);
  assert.deepEqual(
    (await listeners()).map((l) => l.query),
    ['LISTEN report_changes', 'LISTEN report_changes'],
    'each app listens on a connection of its own',
  );

  await system.stop();
  system = undefined;
  // A backend leaves pg_stat_activity a moment after its client ended the connection.
  await waitFor('the listeners to disconnect', async () => (await listeners()).length === 0, 10_000).catch(() => undefined);
  assert.deepEqual(await listeners(), [], 'a LISTEN connection of a stopped system is still open');
});
