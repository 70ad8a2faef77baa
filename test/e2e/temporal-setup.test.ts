import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { INDEXED_VALUE_TYPE_KEYWORD } from '../../src/temporal/setup-cli';
import { SEARCH_ATTRIBUTE_NAMES } from '../../src/temporal/searchAttributes';

/** `npm run temporal:setup` against the test run's real Temporal dev server, run twice (idempotent). */
const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'src', 'temporal', 'setup-cli.ts');
const run = promisify(execFile);

async function setupCli(env: Record<string, string>, args: string[] = []) {
  return run(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    timeout: 90_000,
  });
}

let connection: Connection;

before(async () => {
  connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
});

after(() => connection?.close());

async function listed(namespace: string): Promise<Record<string, number>> {
  const response = await connection.operatorService.listSearchAttributes({ namespace });
  return Object.fromEntries(Object.entries(response.customAttributes ?? {}).map(([k, v]) => [k, Number(v)]));
}

describe('temporal:setup', () => {
  test('KEYWORD matches the proto enum', () => {
    assert.equal(INDEXED_VALUE_TYPE_KEYWORD, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
  });

  test('creates a missing namespace and registers the search attributes; a second run changes nothing', async () => {
    const namespace = `setup-test-${randomBytes(4).toString('hex')}`;
    const env = { TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS!, TEMPORAL_NAMESPACE: namespace };

    const first = await setupCli(env, ['--retention', '1d']);
    assert.match(first.stdout, new RegExp(`namespace ${namespace}: created`));
    for (const name of SEARCH_ATTRIBUTE_NAMES) assert.match(first.stdout, new RegExp(`search attribute ${name} \\(Keyword\\): added`));

    const described = await connection.workflowService.describeNamespace({ namespace });
    assert.equal(Number(described.config?.workflowExecutionRetentionTtl?.seconds), 86_400);

    const second = await setupCli(env);
    assert.match(second.stdout, new RegExp(`namespace ${namespace}: exists`));
    for (const name of SEARCH_ATTRIBUTE_NAMES) assert.match(second.stdout, new RegExp(`search attribute ${name} \\(Keyword\\): exists`));
    assert.match(second.stdout, /nothing to change/);

    const attributes = await listed(namespace);
    for (const name of SEARCH_ATTRIBUTE_NAMES) assert.equal(attributes[name], INDEXED_VALUE_TYPE_KEYWORD, `${name} is Keyword`);
  });

  test('on an existing namespace whose attributes are registered it succeeds without changes', async () => {
    const env = { TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS!, TEMPORAL_NAMESPACE: 'default' };
    for (let i = 0; i < 2; i++) {
      const { stdout } = await setupCli(env, ['--no-create-namespace']);
      assert.match(stdout, /nothing to change/);
    }
    const attributes = await listed('default');
    for (const name of SEARCH_ATTRIBUTE_NAMES) assert.equal(attributes[name], INDEXED_VALUE_TYPE_KEYWORD);
  });

  test('a missing namespace with --no-create-namespace fails with a clear message', async () => {
    const env = { TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS!, TEMPORAL_NAMESPACE: `missing-${randomBytes(4).toString('hex')}` };
    await assert.rejects(setupCli(env, ['--no-create-namespace']), (err: { code?: number; stderr?: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr ?? '', /temporal:setup failed: Namespace missing-[0-9a-f]+ does not exist/);
      return true;
    });
  });
});
