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
  const seats = p.seatHolders ? `${s(p.seatHolders, 'seat holders')}; ` : '';
  const users = p.endUsersSkipped ? 'end users: not synced (settings)' : s(p.users, 'users');
  return `Step: ${p.step}. ${seats}${users}; ${s(p.ticketEvents, 'new ticket events')}${entitlements}`;
}

/** Patch id of the entitlements step (added 2026-12): runs begun before it replay without it. */
const ENTITLEMENTS_PATCH = 'entitlements-after-users';
/** Patch id (2026-12): seat holders and their entitlements first, end users after them (issue 16). */
const SEAT_HOLDERS_FIRST = 'seat-holders-first';

/**
 * One sync of one integration: the seat holders first (then their entitlements, then the end users) beside the
 * ticket activity (they use different Zendesk rate-limit buckets), each a series of heartbeating chunk
 * activities that resume from their checkpoints; the run continues as new after `chunksPerRun` chunks.
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
    // The integration does not sync end users (PATCH …/settings): the seat holders are all its users.
    if (begun.syncEndUsers === false) progress.endUsersSkipped = true;
  }

  progress.step = 'syncing';
  show();
  let chunks = 0;
  let failed = false;
  const budgetLeft = () => !failed && chunks < (input.chunksPerRun ?? CHUNKS_PER_RUN);
  const args = () => ({ integrationId: input.integrationId, syncRunId: syncRunId, maxMs: input.chunkMs ?? CHUNK_MS });

  /** Runs one stream's chunks until it is done (or the run's chunk budget is spent); a failure stops the others. */
  const runStream = async (state: StreamProgress, call: (typeof acts)['syncUsersChunk'], summary: (state: StreamProgress) => string) => {
    while (!state.done && budgetLeft()) {
      chunks++;
      const result = await call.executeWithOptions({ summary: summary(state) }, [args()]).catch((err) => {
        failed = true; // the other streams stop after their current chunk
        throw err;
      });
      state.pages += result.pages;
      state.records += result.records;
      state.done = result.done;
      show();
    }
  };
  const fetching = (what: string, from: string) => (state: StreamProgress) =>
    state.pages === 0 ? `Fetch ${what} (from the saved ${from})` : `Fetch ${what} (continuing after ${state.pages} pages)`;
  const entitlements = () =>
    runStream(
      (progress.entitlements ??= { pages: 0, records: 0, done: false }),
      acts.syncEntitlementsChunk,
      () => 'Read entitlements of light agents and contributors',
    );
  const users = () => runStream(progress.users, acts.syncUsersChunk, fetching('users', 'cursor'));
  const ticketEvents = () => runStream(progress.ticketEvents, acts.syncTicketEventsChunk, fetching('ticket events', 'position'));

  /**
   * Seat holders first (patch SEAT_HOLDERS_FIRST): the agents and admins and their entitlements — the whole
   * seat report — then, when the integration syncs them, the end users (the full users export), beside the
   * ticket activity. End users never delay the seat report.
   */
  const seatLane = async () => {
    await runStream((progress.seatHolders ??= { pages: 0, records: 0, done: false }), acts.syncSeatHoldersChunk, (state) =>
      state.pages === 0 ? 'List the agents and admins (seat holders)' : `List the seat holders (continuing after ${state.pages} pages)`,
    );
    if (!progress.seatHolders.done) return;
    await entitlements();
    if (!progress.entitlements?.done) return;
    if (progress.endUsersSkipped) progress.users.done = true;
    await users();
  };
  /** Before the patch: the users export, then entitlements, beside the ticket activity. */
  const legacyUsersLane = async () => {
    await users();
    if (progress.users.done && patched(ENTITLEMENTS_PATCH)) await entitlements();
  };

  // Wait for both streams to settle, so nothing is still writing when the run is closed.
  const seatFirst = patched(SEAT_HOLDERS_FIRST);
  const outcomes = await Promise.allSettled([seatFirst ? seatLane() : legacyUsersLane(), ticketEvents()]);
  const rejected = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (rejected) {
    const err = rejected.reason;
    const cause = err instanceof ActivityFailure ? err.cause : err;
    const message = cause instanceof Error ? cause.message : 'The sync failed.';
    progress.step = 'failed';
    setCurrentDetails(`Failed: ${message}`);
    if (cause instanceof ApplicationFailure && cause.type === FailureType.AuthLost) {
      await bookkeeping.markNeedsReauth.executeWithOptions({ summary: 'Mark needs_reauth and pause the schedule' }, [
        { integrationId: input.integrationId, message },
      ]);
    }
    // The failure's type tells finishSync whether its text is ours to show a tenant (src/activities/syncFailureText.ts).
    const failureType = cause instanceof ApplicationFailure ? (cause.type ?? null) : null;
    await bookkeeping.finishSync.executeWithOptions({ summary: 'Record the run as failed' }, [
      { syncRunId: syncRunId, status: 'failed', error: message, failureType },
    ]);
    if (cause instanceof ApplicationFailure && (cause.type === FailureType.AuthLost || cause.type === FailureType.NotConnected)) return progress;
    throw err;
  }

  const unfinished = [progress.users, progress.ticketEvents, progress.entitlements, progress.seatHolders].some((state) => state && !state.done);
  if (unfinished) {
    return continueAsNew<typeof zendeskSync>({ ...input, resume: { syncRunId: syncRunId, progress } });
  }
  await bookkeeping.finishSync.executeWithOptions({ summary: 'Record the run as succeeded' }, [{ syncRunId: syncRunId, status: 'succeeded', error: null }]);
  progress.step = 'succeeded';
  show();
  return progress;
}
