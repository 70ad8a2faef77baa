import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AttemptOutcome } from '../../src/activities/webhooks';
import { webhookDelivery, webhookDeliveryWorkflowId, type WebhookDeliveryInput } from '../../src/workflows/webhookDelivery';
import { withStubWorker } from '../helpers/temporal';

/** The delivery workflow alone, with stub attempts standing for the receiver and PostgreSQL. */

interface Call {
  attempt: number;
  nextDelayMs: number | null;
  at: number;
}

function stubs(outcomes: AttemptOutcome[]) {
  const calls: Call[] = [];
  const gaveUp: number[] = [];
  const activities = {
    attemptWebhookDelivery: async (input: { attempt: number; nextDelayMs: number | null }) => {
      calls.push({ attempt: input.attempt, nextDelayMs: input.nextDelayMs, at: Date.now() });
      return outcomes[input.attempt - 1] ?? { outcome: 'retry' };
    },
    giveUpWebhookDelivery: async (input: { attempts: number }) => {
      gaveUp.push(input.attempts);
    },
  };
  return { calls, gaveUp, activities };
}

const run = (activities: Record<string, (...args: any[]) => Promise<unknown>>, input: Omit<WebhookDeliveryInput, 'deliveryId'>) =>
  withStubWorker(activities, (taskQueue, client) => {
    const deliveryId = randomUUID();
    return client.workflow.execute(webhookDelivery, { taskQueue, workflowId: webhookDeliveryWorkflowId(deliveryId), args: [{ deliveryId, ...input }] });
  });

test('retries on the schedule until a 2xx; each attempt is told the delay before the next', async () => {
  const s = stubs([{ outcome: 'retry' }, { outcome: 'retry' }, { outcome: 'delivered' }]);
  const result = await run(s.activities, { scheduleMs: [0, 200, 400, 800], jitter: 0 });
  assert.equal(result, 'delivered');
  assert.deepEqual(
    s.calls.map((c) => [c.attempt, c.nextDelayMs]),
    [
      [1, 200],
      [2, 400],
      [3, 800],
    ],
  );
  assert.ok(s.calls[1]!.at - s.calls[0]!.at >= 200 && s.calls[2]!.at - s.calls[1]!.at >= 400, 'the schedule was waited');
  assert.deepEqual(s.gaveUp, []);
});

test("a Retry-After longer than the schedule's next delay is honoured", async () => {
  const s = stubs([{ outcome: 'retry', retryAfterMs: 1_500 }, { outcome: 'delivered' }]);
  assert.equal(await run(s.activities, { scheduleMs: [0, 100], jitter: 0 }), 'delivered');
  assert.ok(s.calls[1]!.at - s.calls[0]!.at >= 1_500, `waited ${s.calls[1]!.at - s.calls[0]!.at} ms`);
});

test('every attempt failing gives up once, after the last; gone and held end at once', async () => {
  const failing = stubs([]);
  assert.equal(await run(failing.activities, { scheduleMs: [0, 50, 50], jitter: 0.2 }), 'exhausted');
  assert.equal(failing.calls.length, 3);
  assert.equal(failing.calls.at(-1)!.nextDelayMs, null, 'the last attempt knows there is no next one');
  assert.deepEqual(failing.gaveUp, [3]);

  for (const outcome of ['gone', 'held', 'done'] as const) {
    const s = stubs([{ outcome }]);
    assert.equal(await run(s.activities, { scheduleMs: [0, 50, 50], jitter: 0 }), outcome);
    assert.equal(s.calls.length, 1, `${outcome}: no further attempt`);
    assert.deepEqual(s.gaveUp, [], `${outcome}: nothing to give up`);
  }
});

test("after the relay's own first attempt: a final outcome ends the workflow with no attempt of its own; a retry goes on from attempt 2 after the relay's delay", async () => {
  for (const outcome of ['delivered', 'gone', 'held', 'done'] as const) {
    const s = stubs([]);
    assert.equal(await run(s.activities, { scheduleMs: [0, 50, 50], jitter: 0, firstAttempt: { outcome } }), outcome);
    assert.deepEqual(s.calls, [], `${outcome}: the workflow attempts nothing`);
    assert.deepEqual(s.gaveUp, []);
  }
  const s = stubs([{ outcome: 'retry' }, { outcome: 'delivered' }]);
  const started = Date.now();
  assert.equal(await run(s.activities, { scheduleMs: [0, 5_000, 300], jitter: 0, firstAttempt: { outcome: 'retry', delayMs: 700 } }), 'delivered');
  assert.deepEqual(
    s.calls.map((c) => [c.attempt, c.nextDelayMs]),
    [[2, 300]],
    'attempt 1 is not made again; attempt 2 is told the delay before attempt 3',
  );
  assert.ok(s.calls[0]!.at - started >= 700, `attempt 2 waited the relay's delay (${s.calls[0]!.at - started} ms)`);

  const last = stubs([]);
  assert.equal(await run(last.activities, { scheduleMs: [0], jitter: 0, firstAttempt: { outcome: 'retry', delayMs: 0 } }), 'exhausted');
  assert.deepEqual(last.calls, [], 'a one-attempt schedule whose attempt the relay made has nothing left');
  assert.deepEqual(last.gaveUp, [1]);
});
