import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { withHeartbeatPulse } from '../../src/activities/heartbeat';

/**
 * The heartbeat pulse of the sync chunks (src/activities/heartbeat.ts), in a mock activity context. Timers and
 * Date are mocked (node:test mock.timers), so the gaps measured are the pulse's own, whatever the machine's load.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function mockClock(t: TestContext) {
  t.mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'] });
}

/**
 * Moves the mocked clock forward a millisecond at a time, letting what each timer woke run before the next
 * (one big tick would run every timer at its end time on Node 20). setImmediate stays real for that.
 */
async function advance(t: TestContext, ms: number) {
  for (let i = 0; i < ms; i++) {
    t.mock.timers.tick(1);
    await new Promise<void>((r) => setImmediate(r));
  }
}

function recordBeats(env: MockActivityEnvironment) {
  const beats: Array<{ at: number; details: unknown }> = [];
  const started = Date.now();
  env.on('heartbeat', (details: unknown) => beats.push({ at: Date.now() - started, details }));
  return beats;
}

test('heartbeats every few ms through a long wait, with the latest details', async (t) => {
  mockClock(t);
  const env = new MockActivityEnvironment();
  const beats = recordBeats(env);
  const running = env.run(() =>
    withHeartbeatPulse({ everyMs: 50, stallMs: 10_000 }, async (pulse) => {
      pulse.beat({ pages: 1 });
      await sleep(400); // a wait with no heartbeat of its own (a slow request, a database lock)
      return 'done';
    }),
  );
  await advance(t, 400);
  assert.equal(await running, 'done');
  assert.ok(beats.length >= 6, `beats: ${beats.length}`);
  assert.ok(
    beats.every((b) => JSON.stringify(b.details) === '{"pages":1}'),
    'every beat repeats the latest details',
  );
  const gaps = beats.slice(1).map((b, i) => b.at - beats[i]!.at);
  assert.ok(Math.max(...gaps) < 200, `largest gap ${Math.max(...gaps)} ms`);
  // Nothing after the activity returned.
  const count = beats.length;
  await advance(t, 150);
  assert.equal(beats.length, count);
});

test('stops heartbeating when nothing made progress for stallMs, and resumes on progress', async (t) => {
  mockClock(t);
  const env = new MockActivityEnvironment();
  const beats = recordBeats(env);
  const running = env.run(() =>
    withHeartbeatPulse({ everyMs: 40, stallMs: 200 }, async (pulse) => {
      await sleep(600); // stuck: the pulse must go quiet after ~200 ms, so the heartbeat timeout can fire
      const quietFrom = beats.length;
      assert.ok(
        beats.every((b) => b.at < 320),
        `beats while stuck: ${beats.map((b) => b.at).join(',')}`,
      );
      pulse.progress(); // a finished request, a rate-limit tick…
      await sleep(200);
      assert.ok(beats.length - quietFrom >= 3, 'beats again after progress');
    }),
  );
  await advance(t, 800);
  await running;
});

test('the pulse ends when the activity fails', async (t) => {
  mockClock(t);
  const env = new MockActivityEnvironment();
  const beats = recordBeats(env);
  const failed = assert.rejects(
    env.run(() =>
      withHeartbeatPulse({ everyMs: 30, stallMs: 10_000 }, async () => {
        await sleep(100);
        throw new Error('boom');
      }),
    ),
    /boom/,
  );
  await advance(t, 100);
  await failed;
  const count = beats.length;
  assert.ok(count >= 2);
  await advance(t, 120);
  assert.equal(beats.length, count);
});
