import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { withHeartbeatPulse } from './heartbeat';

/** What a batched activity heartbeats after each batch: where to resume, and what it did so far. */
export interface BatchProgress<S> {
  /** Which walk this is (an activity may run several one after the other). */
  rule: string;
  state: S;
  changed: number;
  batches: number;
}

/** One batch: how many rows it changed, and the state of the next batch (undefined: done). */
export type BatchStep<S> = (state: S) => Promise<{ changed: number; next: S | undefined }>;

/**
 * Runs `step` until it says done, heartbeating after each batch with where it got to. A retried attempt
 * (worker lost, database blip) resumes from the last heartbeat's state instead of walking everything
 * again, and keeps counting from there. A cancelled activity (worker shutting down, workflow cancelled)
 * stops between two batches: each batch is its own transaction, so nothing is half done.
 */
export async function inBatches<S>(rule: string, initial: S, step: BatchStep<S>, onBatch: (changed: number) => void = () => {}): Promise<BatchProgress<S>> {
  const context = Context.current();
  const details = context.info.heartbeatDetails as BatchProgress<S> | undefined;
  const resumed = details?.rule === rule ? details : undefined;
  let progress: BatchProgress<S> = resumed ?? { rule, state: initial, changed: 0, batches: 0 };
  // Heartbeats also while one statement waits (a lock held by a sync's page, a busy pool); a statement
  // stuck for a minute stops them, and the attempt is retried.
  return withHeartbeatPulse({ stallMs: 60_000 }, async (pulse) => {
    for (;;) {
      if (context.cancellationSignal.aborted) throw new CancelledFailure('Housekeeping activity cancelled between two batches');
      const { changed, next } = await step(progress.state);
      onBatch(changed);
      progress = { rule, state: next ?? progress.state, changed: progress.changed + changed, batches: progress.batches + 1 };
      pulse.beat(progress);
      if (next === undefined) return progress;
    }
  });
}
