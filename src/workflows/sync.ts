import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities/sync';
import { FailureType } from '../shared/failureTypes';
import { syncProgressQuery, type StreamProgress, type SyncProgress } from './messages';

export interface SyncInput {
  integrationId: string;
  tenantId: string;
  workspace: string;
  /** Set when a long sync continues as new: the run record and the progress so far. */
  resume?: { syncRunId: string; progress: SyncProgress };
  /** Chunks per workflow run before continuing as new (SYNC_CHUNKS_PER_RUN; tests lower it). */
  chunksPerRun?: number;
  /** How long one chunk works before it reports progress (SYNC_CHUNK_SECONDS). */
  chunkMs?: number;
  /** Attempts of a failing chunk before the sync is recorded failed (SYNC_CHUNK_ATTEMPTS; default 30). */
  chunkAttempts?: number;
}

/** Chunks per workflow run before continuing as new, which keeps every history small. */
const CHUNKS_PER_RUN = 100;
const CHUNK_MS = 30_000;


const CHUNK_ATTEMPTS = 30;

/** The chunk activities, tried `maximumAttempts` times (the retry policy is not part of replay's checks). */
const chunkActivities = (maximumAttempts: number) =>
  proxyActivities<SyncActivities>({
    startToCloseTimeout: '5 minutes',
    // Chunks heartbeat every 2 s through every wait (src/activities/heartbeat.ts); a killed worker's chunk
    // moves to another worker after this long. The worker sends heartbeats at least every 3 s.
    heartbeatTimeout: '15 seconds',
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      maximumAttempts,
      nonRetryableErrorTypes: [FailureType.AuthLost, FailureType.NotConnected],
    },
  });

const bookkeeping = proxyActivities<SyncActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds' },
});

function describe(p: SyncProgress): string {
  const s = (x: StreamProgress, what: string) => `${what}: ${x.records.toLocaleString('en-US')} in ${x.pages} pages${x.done ? ' (done)' : ''}`;
  const entitlements = p.entitlements ? `; entitlements read: ${p.entitlements.records.toLocaleString('en-US')}${p.entitlements.done ? ' (done)' : ''}` : '';
  return `Step: ${p.step}. ${s(p.users, 'users')}; ${s(p.ticketEvents, 'new ticket events')}${entitlements}`;
}

/** Patch id of the entitlements step (added 2026-12): runs begun before it replay without it. */
const ENTITLEMENTS_PATCH = 'entitlements-after-users';

/**
 * One sync of one integration: users and ticket activity side by side (they use different Zendesk
 * rate-limit buckets), each as a series of heartbeating chunk activities that resume from the checkpoint.
 */
export async function zendeskSync(input: SyncInput): Promise<SyncProgress> {
  const info = workflowInfo();
  const acts = chunkActivities(input.chunkAttempts ?? CHUNK_ATTEMPTS);
  let syncRunId = input.resume?.syncRunId;
  const progress: SyncProgress = input.resume?.progress ?? {
    step: 'starting',
    users: { pages: 0, records: 0, done: false },
    ticketEvents: { pages: 0, records: 0, done: false },
  };
  setHandler(syncProgressQuery, () => progress);
  const show = () => setCurrentDetails(describe(progress));

  if (!syncRunId) {
    const begun = await bookkeeping.beginSync.executeWithOptions({ summary: 'Open the sync run (skip if another sync is running)' }, [
      { integrationId: input.integrationId, workflowId: info.workflowId, runId: info.firstExecutionRunId },
    ]);
    if ('skipped' in begun) {
      progress.step = 'skipped';
      setCurrentDetails(`Skipped: ${begun.skipped}`);
      return progress;
    }
    syncRunId = begun.syncRunId;
  }

  progress.step = 'syncing';
  show();
  let chunks = 0;
  let failed = false;
  const budgetLeft = () => !failed && chunks < (input.chunksPerRun ?? CHUNKS_PER_RUN);
  const stream = async (which: 'users' | 'ticketEvents') => {
    const state = progress[which];
    while (!state.done && budgetLeft()) {
      chunks++;
      const args = { integrationId: input.integrationId, syncRunId: syncRunId!, maxMs: input.chunkMs ?? CHUNK_MS };
      const what = which === 'users' ? 'users' : 'ticket events';
      const summary = state.pages === 0
        ? `Fetch ${what} (from the saved ${which === 'users' ? 'cursor' : 'position'})`
        : `Fetch ${what} (continuing after ${state.pages} pages)`;
      const call = which === 'users' ? acts.syncUsersChunk : acts.syncTicketEventsChunk;
      const result = await call.executeWithOptions({ summary }, [args]).catch((err) => {
        failed = true; // the other stream stops after its current chunk
        throw err;
      });
      state.pages += result.pages;
      state.records += result.records;
      state.done = result.done;
      show();
    }
    if (which === 'users' && state.done && patched(ENTITLEMENTS_PATCH)) await entitlements();
  };

  /** After the users: light agents' and contributors' entitlements (who of them holds a paid seat). */
  const entitlements = async () => {
    const state = (progress.entitlements ??= { pages: 0, records: 0, done: false });
    while (!state.done && budgetLeft()) {
      chunks++;
      const args = { integrationId: input.integrationId, syncRunId: syncRunId!, maxMs: input.chunkMs ?? CHUNK_MS };
      const result = await acts.syncEntitlementsChunk.executeWithOptions({ summary: 'Read entitlements of light agents and contributors' }, [args]).catch((err) => {
        failed = true;
        throw err;
      });
      state.pages += result.pages;
      state.records += result.records;
      state.done = result.done;
      show();
    }
  };

  // Wait for both streams to settle, so nothing is still writing when the run is closed.
  const outcomes = await Promise.allSettled([stream('users'), stream('ticketEvents')]);
  const rejected = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (rejected) {
    const err = rejected.reason;
    const cause = err instanceof ActivityFailure ? err.cause : err;
    const message = cause instanceof Error ? cause.message : 'The sync failed.';
    progress.step = 'failed';
    setCurrentDetails(`Failed: ${message}`);
    if (cause instanceof ApplicationFailure && cause.type === FailureType.AuthLost) {
      await bookkeeping.markNeedsReauth.executeWithOptions({ summary: 'Mark needs_reauth and pause the schedule' }, [{ integrationId: input.integrationId, message }]);
    }
    // The failure's type tells finishSync whether its text is ours to show a tenant (src/activities/syncFailureText.ts).
    const failureType = cause instanceof ApplicationFailure ? (cause.type ?? null) : null;
    await bookkeeping.finishSync.executeWithOptions({ summary: 'Record the run as failed' }, [{ syncRunId: syncRunId!, status: 'failed', error: message, failureType }]);
    if (cause instanceof ApplicationFailure && (cause.type === FailureType.AuthLost || cause.type === FailureType.NotConnected)) return progress;
    throw err;
  }

  if (!progress.users.done || !progress.ticketEvents.done || (progress.entitlements && !progress.entitlements.done)) {
    return continueAsNew<typeof zendeskSync>({ ...input, resume: { syncRunId: syncRunId!, progress } });
  }
  await bookkeeping.finishSync.executeWithOptions({ summary: 'Record the run as succeeded' }, [{ syncRunId: syncRunId!, status: 'succeeded', error: null }]);
  progress.step = 'succeeded';
  show();
  return progress;
}
