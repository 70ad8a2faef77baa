/**
 * Captures the event histories that test/replay/replay.test.ts replays against the current workflow code.
 * Each scenario runs a workflow on a real Temporal server with stub activities (ids and counters only, so
 * the files stay small and hold nothing secret) and saves every run's history as JSON in
 * test/replay/histories/<name>.json (`<name>.run<N>.json` for each run of a workflow that continued as new).
 * A history's file name (up to `.run<N>`) is the workflow id it is replayed under.
 *
 *   npx tsx scripts/capture-histories.ts            # uses TEMPORAL_ADDRESS, else starts a headless dev server
 *   npx tsx scripts/capture-histories.ts connect    # only the scenarios whose name contains "connect"
 *
 * Refresh the files only for an intentional change of workflow code, and only once that change is safe for
 * the runs in flight (guarded with `patched()`, or deployed when nothing runs): the old files are what
 * running workflows look like, so keep them too (rename them, e.g. `*.v1.json`) while such runs may exist.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection, Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import { startDevServer } from '../src/temporal/devServer';
import { zendeskConnect, type ConnectInput } from '../src/workflows/connect';
import { zendeskDisconnect } from '../src/workflows/disconnect';
import { housekeeping, HOUSEKEEPING_RULES } from '../src/workflows/housekeeping';
import { submitConsentUpdate } from '../src/workflows/messages';
import { zendeskOffboard } from '../src/workflows/offboard';
import { approveReclamationUpdate, reclaimProgressQuery, undoReclamationUpdate } from '../src/workflows/messages';
import { zendeskReclaim } from '../src/workflows/reclaim';
import { zendeskSync, type SyncInput } from '../src/workflows/sync';
import { productionWorkflowBundle } from '../test/replay/workflowBundle';
import { freePort } from './test';

export const HISTORIES_DIR = path.join(__dirname, '..', 'test', 'replay', 'histories');

type Stubs = Record<string, (...args: any[]) => Promise<unknown>>;

interface Scenario {
  /** The file name (and workflow id). */
  name: string;
  activities: Stubs;
  /** Runs the workflow to completion; resolves with its first run's handle. */
  run(client: Client, taskQueue: string, workflowId: string): Promise<{ firstExecutionRunId: string }>;
}

// Fixed, obviously fake ids: histories are committed.
const INTEGRATION = '00000000-0000-4000-8000-000000000001';
const TENANT = '00000000-0000-4000-8000-000000000002';
const FLOW = '00000000-0000-4000-8000-000000000003';

const connectInput = (consentTimeoutMs = 60_000): ConnectInput => ({
  integrationId: INTEGRATION,
  tenantId: TENANT,
  workspace: 'acme',
  flowId: FLOW,
  consentTimeoutMs,
});
const syncInput = (extra: Partial<SyncInput> = {}): SyncInput => ({ integrationId: INTEGRATION, tenantId: TENANT, workspace: 'acme', ...extra });

function connectStubs(overrides: Stubs = {}): Stubs {
  const nothing = async () => undefined;
  return {
    exchangeAuthorizationCode: nothing,
    verifyAdmin: async () => ({ isAdmin: true, userId: 7, role: 'admin' }),
    discardCredentials: nothing,
    markConnected: nothing,
    closeConsentAttempt: nothing,
    startSyncing: nothing,
    exchangeCodeForStagedTokens: nothing,
    verifyStagedAdmin: async () => ({ isAdmin: true, userId: 7, role: 'admin' }),
    // A reconnect: the swap replaced a grant, which is then revoked.
    promoteStagedCredentials: async () => ({ replaced: true }),
    revokeStagedCredentials: nothing,
    ...overrides,
  };
}

/** Sync stubs: each stream is done after the given number of chunks. */
function syncStubs(chunks: { users: number; events: number }, overrides: Stubs = {}): Stubs {
  let users = chunks.users;
  let events = chunks.events;
  return {
    beginSync: async () => ({ syncRunId: 'run-1' }),
    syncUsersChunk: async () => ({ done: --users <= 0, pages: 2, records: 2000 }),
    syncTicketEventsChunk: async () => ({ done: --events <= 0, pages: 3, records: 2500 }),
    syncEntitlementsChunk: async () => ({ done: true, pages: 1, records: 4 }),
    syncSeatHoldersChunk: async () => ({ done: true, pages: 2, records: 150 }),
    finishSync: async () => undefined,
    markNeedsReauth: async () => undefined,
    ...overrides,
  };
}

/** Housekeeping stubs: each rule reports a small count; `failing` fails at once (not retried). */
function housekeepingStubs(failing?: string): Stubs {
  return Object.fromEntries(
    HOUSEKEEPING_RULES.map((rule, i) => [
      rule.activity,
      async () => {
        if (rule.activity === failing) throw ApplicationFailure.nonRetryable('canceling statement due to lock timeout', 'HousekeepingRuleFailed');
        return i + 1;
      },
    ]),
  );
}

/** Runs the housekeeping workflow to its end, success or failure. */
const runHousekeeping = async (client: Client, taskQueue: string, workflowId: string) => {
  const handle = await client.workflow.start(housekeeping, { taskQueue, workflowId });
  await handle.result().catch(() => undefined);
  return handle;
};

/** Starts the connect workflow, answers its consent update, waits for the end. */
const consent = (outcome: 'approved' | 'denied') => async (client: Client, taskQueue: string, workflowId: string) => {
  const handle = await client.workflow.start(zendeskConnect, { taskQueue, workflowId, args: [connectInput()] });
  await handle.executeUpdate(submitConsentUpdate, { args: [{ flowId: FLOW, outcome }], updateId: FLOW });
  await handle.result();
  return handle;
};

const runSync = (input: SyncInput) => async (client: Client, taskQueue: string, workflowId: string) => {
  const handle = await client.workflow.start(zendeskSync, { taskQueue, workflowId, args: [input] });
  await client.workflow.getHandle(workflowId).result(); // follows continue-as-new to the last run
  return handle;
};

export const SCENARIOS: Scenario[] = [
  { name: 'zendesk-connect-allowed', activities: connectStubs(), run: consent('approved') },
  { name: 'zendesk-connect-denied', activities: connectStubs(), run: consent('denied') },
  {
    name: 'zendesk-connect-expired',
    activities: connectStubs(),
    run: async (client, taskQueue, workflowId) => {
      const handle = await client.workflow.start(zendeskConnect, { taskQueue, workflowId, args: [connectInput(300)] });
      await handle.result();
      return handle;
    },
  },
  {
    name: 'zendesk-connect-not-admin',
    activities: connectStubs({ verifyStagedAdmin: async () => ({ isAdmin: false, userId: 9, role: 'agent' }) }),
    run: consent('approved'),
  },
  // Both streams side by side: users in 3 chunks, ticket events in 2.
  { name: 'zendesk-sync-both-streams', activities: syncStubs({ users: 3, events: 2 }), run: runSync(syncInput()) },
  // The current path: users, then the entitlements of light agents and contributors (patch
  // `entitlements-after-users`), beside the ticket events. The histories above predate it and still replay.
  // `zendesk-sync-with-entitlements.json` (users, then entitlements) predates patch `seat-holders-first` and is
  // kept, no longer re-captured. The current path: seat holders, entitlements, end users, beside ticket events.
  { name: 'zendesk-sync-seat-holders-first', activities: syncStubs({ users: 2, events: 2 }), run: runSync(syncInput()) },
  // chunksPerRun 2 (production: 100): the first run's two chunks leave users unfinished, so it continues as
  // new; the second run (resume input) finishes users and records the run as succeeded.
  { name: 'zendesk-sync-continue-as-new', activities: syncStubs({ users: 3, events: 1 }), run: runSync(syncInput({ chunksPerRun: 2 })) },
  {
    name: 'zendesk-sync-auth-lost',
    activities: syncStubs(
      { users: 3, events: 3 },
      {
        syncUsersChunk: async () => {
          throw ApplicationFailure.nonRetryable('Zendesk no longer accepts this authorization. Reconnect.', 'ZendeskAuthLost');
        },
      },
    ),
    run: runSync(syncInput()),
  },
  // `zendesk-disconnect-purge.json` was captured before the disconnect workflow owned the whole operation
  // (patch `disconnect-owns-the-operation`); it stays as the proof that such runs still replay, and is no
  // longer re-captured. This is the current path, with a purge that takes two slices.
  {
    name: 'zendesk-disconnect-owned',
    activities: (() => {
      let slices = 0;
      return {
        beginDisconnect: async () => undefined,
        stopSyncing: async () => ({ syncsStopped: 1 }),
        revokeGrant: async () => ({ outcome: 'refused', revokedAtZendesk: false, grantMayBeLive: true, message: 'Zendesk refused to revoke the grant.' }),
        purgeSyncedDataSlice: async () => ({ done: ++slices >= 2, deleted: 20_000 }),
        finishDisconnect: async () => undefined,
      };
    })(),
    run: async (client, taskQueue, workflowId) => {
      const handle = await client.workflow.start(zendeskDisconnect, { taskQueue, workflowId, args: [{ integrationId: INTEGRATION, purge: true }] });
      await handle.result();
      return handle;
    },
  },
  // A tenant's offboarding: keys refused, its integrations (three) disconnected and purged, keys revoked, offboarded.
  {
    name: 'zendesk-offboard',
    activities: {
      beginOffboard: async () => undefined,
      listTenantIntegrations: async () => ({ integrationIds: [INTEGRATION, FLOW, '00000000-0000-4000-8000-000000000004'], next: undefined }),
      disconnectAndPurge: async (input: { integrationId: string }) => ({ skipped: input.integrationId === FLOW, revocation: 'revoked' }),
      revokeTenantKeys: async () => ({ revoked: 2 }),
      finishOffboard: async () => undefined,
    },
    run: async (client, taskQueue, workflowId) => {
      const handle = await client.workflow.start(zendeskOffboard, { taskQueue, workflowId, args: [{ tenantId: TENANT }] });
      await handle.result();
      return handle;
    },
  },
  // A reclamation: approved, three users (one refused by Zendesk), one undone, then the undo window ends.
  {
    name: 'zendesk-reclaim',
    activities: {
      recordApproval: async () => undefined,
      closeReclamation: async () => undefined,
      endUndoWindow: async () => undefined,
      reclaimUser: async (input: { userId: number }) => (input.userId === 12 ? 'failed' : 'downgraded'),
      restoreUser: async () => 'restored',
    },
    run: async (client, taskQueue, workflowId) => {
      const handle = await client.workflow.start(zendeskReclaim, {
        taskQueue,
        workflowId,
        args: [
          { reclamationId: FLOW, integrationId: INTEGRATION, tenantId: TENANT, candidateIds: [11, 12, 13], approvalWindowMs: 60_000, undoWindowMs: 3_000 },
        ],
      });
      await handle.executeUpdate(approveReclamationUpdate, { args: [{ apiKeyId: null, actor: 'capture' }] });
      while ((await handle.query(reclaimProgressQuery)).status !== 'completed') await new Promise((r) => setTimeout(r, 50));
      await handle.executeUpdate(undoReclamationUpdate, { args: [{ apiKeyId: null, actor: 'capture', userIds: [11] }] });
      await handle.result();
      return handle;
    },
  },
  // Every rule, one after the other.
  { name: 'zendesk-housekeeping', activities: housekeepingStubs(), run: runHousekeeping },
  // A rule that fails: the others still run, then the run fails naming it.
  { name: 'zendesk-housekeeping-rule-failed', activities: housekeepingStubs('pruneSyncRuns'), run: runHousekeeping },
];

/** Every run of a workflow execution chain, first to last (continue-as-new links them). */
async function runHistories(client: Client, workflowId: string, firstRunId: string) {
  const runs = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    runs.push(history);
    const last = history.events?.at(-1);
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}

async function main(): Promise<void> {
  const filter = process.argv[2];
  const scenarios = SCENARIOS.filter((s) => !filter || s.name.includes(filter));
  if (scenarios.length === 0) throw new Error(`no scenario matches "${filter}"`);
  // Quiet: the auth-lost scenario's activity failure is expected (the SDK logs it as a warning).
  const warn = (message: string, meta?: unknown) => (message === 'Activity failed' ? undefined : console.warn(message, meta ?? ''));
  Runtime.install({
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn, error: console.error },
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });

  const server = process.env.TEMPORAL_ADDRESS ? undefined : await startDevServer({ port: await freePort(), log: (l) => console.log(l) });
  const address = process.env.TEMPORAL_ADDRESS ?? server!.address;
  const workflowBundle = await productionWorkflowBundle();
  const connection = await NativeConnection.connect({ address });
  const clientConnection = await Connection.connect({ address });
  const client = new Client({ connection: clientConnection, identity: 'capture-histories' });
  mkdirSync(HISTORIES_DIR, { recursive: true });
  try {
    for (const scenario of scenarios) {
      const taskQueue = `capture-${scenario.name}`;
      const worker = await Worker.create({ connection, taskQueue, workflowBundle, activities: scenario.activities, identity: 'capture-histories' });
      const handle = await worker.runUntil(scenario.run(client, taskQueue, scenario.name));
      const runs = await runHistories(client, scenario.name, handle.firstExecutionRunId);
      for (const old of readdirSync(HISTORIES_DIR).filter(
        (f) => f === `${scenario.name}.json` || (f.startsWith(`${scenario.name}.run`) && f.endsWith('.json')),
      )) {
        rmSync(path.join(HISTORIES_DIR, old));
      }
      runs.forEach((history, i) => {
        const file = runs.length === 1 ? `${scenario.name}.json` : `${scenario.name}.run${i + 1}.json`;
        // historyToJSON: the proto JSON form that `temporal workflow show --output json` also writes; one
        // event per line keeps the files small and their diffs readable.
        const { events } = JSON.parse(historyToJSON(history)) as { events: unknown[] };
        writeFileSync(path.join(HISTORIES_DIR, file), `{"events": [\n${events.map((e) => JSON.stringify(e)).join(',\n')}\n]}\n`);
        console.log(`${file}: ${history.events?.length ?? 0} events`);
      });
    }
  } finally {
    await clientConnection.close();
    await connection.close();
    await server?.stop();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
