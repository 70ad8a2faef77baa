import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The layering of docs/architecture.md, kept true: what each folder of src/ may import. Workflow code runs
 * in Temporal's deterministic sandbox, so it may import only the workflow SDK, other workflow files, the
 * pure modules of src/shared/ and types; src/shared/ imports nothing with side effects; the API never
 * talks to Zendesk (the worker does).
 */
const SRC = path.resolve(__dirname, '..', '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') ? [full] : [];
  });
}

interface Import {
  file: string;
  module: string;
  typeOnly: boolean;
}

/** Every import and re-export of a file, and whether it brings types only. */
function importsOf(file: string, source = readFileSync(file, 'utf8')): Import[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, false);
  const out: Import[] = [];
  for (const node of sf.statements) {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const typeOnly = !!clause && (clause.isTypeOnly || (!clause.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      out.push({ file, module: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      out.push({ file, module: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    }
  }
  return out;
}

const resolved = (i: Import) => (i.module.startsWith('.') ? path.relative(SRC, path.resolve(path.dirname(i.file), i.module)) : i.module);
const describeImport = (i: Import) => `${path.relative(SRC, i.file)} imports ${i.module}`;

test('workflow code imports only the workflow SDK, other workflow files, src/shared/ and types', () => {
  const bad = files(path.join(SRC, 'workflows'))
    .flatMap((f) => importsOf(f))
    .filter((i) => !i.typeOnly)
    .filter((i) => {
      const target = resolved(i);
      return !(target === '@temporalio/workflow' || target === '@temporalio/common' || target.startsWith('workflows/') || target.startsWith('shared/'));
    });
  assert.deepEqual(bad.map(describeImport), []);
});

test('src/shared/ is pure: it imports only @temporalio/common and itself', () => {
  const bad = files(path.join(SRC, 'shared'))
    .flatMap((f) => importsOf(f))
    .filter((i) => !i.typeOnly && !(resolved(i) === '@temporalio/common' || resolved(i).startsWith('shared/')));
  assert.deepEqual(bad.map(describeImport), []);
});

test('the API never holds Zendesk client code (only the worker calls Zendesk)', () => {
  const client = [
    'zendesk/client',
    'zendesk/http',
    'zendesk/tokens',
    'zendesk/rateLimit/rateLimiter',
    'zendesk/rateLimit/headers',
    'zendesk/rateLimit/localBuckets',
    'zendesk/rateLimit/sharedBlocks',
    'zendesk/rateLimit/turns',
    'zendesk/rateLimit/waits',
    'zendesk/unauthorized',
    'zendesk/grantUser',
  ];
  const bad = files(path.join(SRC, 'api'))
    .flatMap((f) => importsOf(f))
    .filter((i) => !i.typeOnly && client.includes(resolved(i)));
  assert.deepEqual(bad.map(describeImport), []);
});

test('the checks can fail: a workflow file with a value import of an activity or a Node built-in is caught', () => {
  const file = path.join(SRC, 'workflows', 'example.ts');
  const found = importsOf(
    file,
    "import { createSyncActivities } from '../activities/sync';\nimport fs from 'node:fs';\nimport type { X } from '../activities/x';\n",
  );
  assert.deepEqual(
    found.map((i) => [resolved(i), i.typeOnly]),
    [
      ['activities/sync', false],
      ['node:fs', false],
      ['activities/x', true],
    ],
  );
});
