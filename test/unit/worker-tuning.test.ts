import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config';

const workerTuning = (env: Record<string, string>) => loadConfig(env).workerTuning;
import { expandShell, productionWorkerNodeFlags } from '../../bench/workerFlags';

describe('worker tuning (WORKER_* variables)', () => {
  test('explicit defaults, independent of the V8 heap limit', () => {
    assert.deepEqual(workerTuning({}), { maxConcurrentActivityTaskExecutions: 50, maxCachedWorkflows: 1000, maxConcurrentWorkflowTaskExecutions: 40 });
  });

  test('each variable sets its option', () => {
    const t = workerTuning({ WORKER_MAX_CONCURRENT_ACTIVITIES: '20', WORKER_MAX_CACHED_WORKFLOWS: '300', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '8' });
    assert.deepEqual(t, { maxConcurrentActivityTaskExecutions: 20, maxCachedWorkflows: 300, maxConcurrentWorkflowTaskExecutions: 8 });
    assert.equal(workerTuning({ WORKER_MAX_CONCURRENT_ACTIVITIES: '' }).maxConcurrentActivityTaskExecutions, 50, 'blank = default');
  });

  test('workflow task slots never exceed the cache (the SDK requires it), unless the cache is off', () => {
    assert.equal(workerTuning({ WORKER_MAX_CACHED_WORKFLOWS: '5' }).maxConcurrentWorkflowTaskExecutions, 5);
    assert.equal(workerTuning({ WORKER_MAX_CACHED_WORKFLOWS: '0' }).maxConcurrentWorkflowTaskExecutions, 40);
  });

  test('bad values stop the worker with one message naming each', () => {
    assert.throws(
      () => workerTuning({ WORKER_MAX_CONCURRENT_ACTIVITIES: '0', WORKER_MAX_CACHED_WORKFLOWS: 'lots' }),
      (err: Error) => /WORKER_MAX_CONCURRENT_ACTIVITIES/.test(err.message) && /WORKER_MAX_CACHED_WORKFLOWS/.test(err.message),
    );
    assert.throws(() => workerTuning({ WORKER_MAX_CACHED_WORKFLOWS: '1' }), /WORKER_MAX_CACHED_WORKFLOWS: must be 0 \(no cache\) or at least 2/);
    assert.throws(() => workerTuning({ WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '2.5' }), /WORKER_MAX_CONCURRENT_WORKFLOW_TASKS/);
  });
});

describe('the worker Node flags of npm run start:worker', () => {
  test('the heap cap follows WORKER_HEAP_MB, 128 MB by default', () => {
    assert.deepEqual(productionWorkerNodeFlags({}), ['--max-old-space-size=128']);
    assert.deepEqual(productionWorkerNodeFlags({ WORKER_HEAP_MB: '384' }), ['--max-old-space-size=384']);
  });

  test('expands like sh', () => {
    assert.equal(expandShell('a=${X:-1} b=${Y} c=$Z', { X: '', Y: 'y', Z: 'z' }), 'a=1 b=y c=z');
    assert.equal(expandShell('${X:-1}', { X: '7' }), '7');
    assert.throws(() => productionWorkerNodeFlags({}, 'node dist/src/api-server.js'), /start:worker is expected/);
  });
});
