import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker, makeTelemetryFilterString, type ReplayWorkerOptions } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { productionWorkflowBundle } from './workflowBundle';

/**
 * Replays the committed histories (test/replay/histories, written by scripts/capture-histories.ts) against
 * the current workflow code, bundled as production bundles it. A change to workflow code that would break
 * the runs in flight (an activity added, removed or reordered, a timer or a branch that issues different
 * commands…) fails here instead of in production. See test/replay/README.md.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const HISTORIES = path.join(__dirname, 'histories');

// Warnings and errors only: the canary below makes the SDK's core log the nondeterminism it is meant to find.
Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });

/** Every scenario scripts/capture-histories.ts writes: a deleted or renamed file fails the test too. */
const EXPECTED = [
  'zendesk-connect-allowed.json',
  'zendesk-connect-denied.json',
  'zendesk-connect-expired.json',
  'zendesk-connect-not-admin.json',
  // Captured before the staged-grant patch (issue 13 §2): connect flows in flight at its deploy look like these.
  'zendesk-connect-allowed.v1.json',
  'zendesk-connect-denied.v1.json',
  'zendesk-connect-expired.v1.json',
  'zendesk-connect-not-admin.v1.json',
  'zendesk-disconnect-owned.json',
  'zendesk-disconnect-purge.json',
  'zendesk-housekeeping-rule-failed.json',
  'zendesk-housekeeping.json',
  'zendesk-offboard.json',
  'zendesk-sync-auth-lost.json',
  'zendesk-sync-both-streams.json',
  'zendesk-sync-continue-as-new.run1.json',
  'zendesk-sync-continue-as-new.run2.json',
  'zendesk-sync-seat-holders-first.json',
  'zendesk-sync-with-entitlements.json',
];

function histories() {
  return readdirSync(HISTORIES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      // The workflow id of a capture is its file name without `.run<N>.json` / `.json`.
      workflowId: file.replace(/(\.run\d+)?\.json$/, ''),
      history: historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8'))),
    }));
}

/** Replays every history; resolves with each file's error (undefined when it replayed cleanly). */
async function replayAll(workflowBundle: ReplayWorkerOptions['workflowBundle']): Promise<Map<string, Error | undefined>> {
  const all = histories();
  const results = new Map<string, Error | undefined>();
  const byId = new Map(all.map((h) => [h.workflowId, h.file]));
  let i = 0;
  // One history at a time, so each result is matched to its file (ids repeat across the runs of one chain).
  for await (const result of Worker.runReplayHistories({ workflowBundle, replayName: 'committed-histories' }, all)) {
    const file = all[i++]?.file ?? byId.get(result.workflowId) ?? result.workflowId;
    results.set(file, result.error);
  }
  return results;
}

test('the committed histories are all there', () => {
  const present = readdirSync(HISTORIES)
    .filter((f) => f.endsWith('.json'))
    .sort();
  for (const file of EXPECTED) assert.ok(present.includes(file), `${file} is missing: run npx tsx scripts/capture-histories.ts`);
  for (const { file, history } of histories()) {
    const first = history.events?.[0];
    assert.ok(first?.workflowExecutionStartedEventAttributes, `${file} does not start with WorkflowExecutionStarted`);
  }
});

test('the current workflow code replays every committed history deterministically', { timeout: 180_000 }, async () => {
  const results = await replayAll(await productionWorkflowBundle());
  assert.equal(results.size, histories().length, 'every history was replayed');
  const failures = [...results].filter(([, error]) => error).map(([file, error]) => `${file}: ${error!.name}: ${error!.message}`);
  assert.deepEqual(
    failures,
    [],
    'Workflow code no longer matches histories of runs that may be in flight. Guard the change with patched() ' +
      '(or deploy it when nothing runs); then refresh the histories (see test/replay/README.md).',
  );
});

/**
 * The test above must be able to fail. A copy of the workflow sources in which the disconnect workflow
 * revokes the credentials before stopping the running syncs (two activity calls swapped) must not replay
 * the disconnect history, while every other history still replays.
 */
test('a reordering of two activity calls is caught as nondeterminism', { timeout: 180_000 }, async () => {
  // Under dist/ (ignored by git; not under node_modules, whose .ts files the bundler would not compile),
  // so the copy resolves @temporalio/* from the project's node_modules.
  mkdirSync(path.join(ROOT, 'dist'), { recursive: true });
  const scratch = mkdtempSync(path.join(ROOT, 'dist', 'replay-mutant-'));
  try {
    cpSync(path.join(ROOT, 'src'), path.join(scratch, 'src'), { recursive: true });
    const file = path.join(scratch, 'src', 'workflows', 'disconnect.ts');
    const source = readFileSync(file, 'utf8');
    const stop = /^\s*await (?:legacyActs|acts)\.stopRunningSyncs\.[^\n]*\n/m.exec(source);
    const revoke = /^\s*await (?:legacyActs|acts)\.revokeAndDeleteCredentials\.[^\n]*\n/m.exec(source);
    assert.ok(stop && revoke && stop.index < revoke.index, 'disconnect.ts no longer stops syncs before revoking: update this mutation');
    const swapped = source.replace(stop[0], '\u0000').replace(revoke[0], stop[0]).replace('\u0000', revoke[0]);
    assert.notEqual(swapped, source);
    writeFileSync(file, swapped);

    const results = await replayAll(await productionWorkflowBundle(path.join(scratch, 'src', 'workflows', 'index.ts')));
    const error = results.get('zendesk-disconnect-purge.json');
    assert.ok(error instanceof DeterminismViolationError, `expected a DeterminismViolationError, got ${error}`);
    assert.deepEqual(
      [...results].filter(([f, e]) => e && f !== 'zendesk-disconnect-purge.json').map(([f]) => f),
      [],
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
