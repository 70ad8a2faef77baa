/**
 * `npm test`: every test against real services.
 *
 * Once per run: a migrated template database, the workflow bundle (WORKFLOW_BUNDLE_PATH, so no file bundles
 * the workflows itself) and one Temporal dev server. Then each test file runs in a process of its own with a
 * database of its own (cloned from the template, dropped afterwards), TEST_CONCURRENCY files at a time (the
 * machine's cores by default, at least 2), followed by a serial phase for the files that restart a shared
 * service. Each file's whole output (spec reporter, SDK and application logs) goes to a log file under
 * .test-logs/<run>/; the console shows one line per file, every failing test with its error, and where the
 * failing file's log is.
 *
 *   npm test                      # everything
 *   npm test -- test/unit         # a folder or files
 *   TEST_CONCURRENCY=1 npm test   # one file at a time
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createDb } from '../src/db/database';
import { migrateToLatest } from '../src/db/migrator';
import { startDevServer } from '../src/temporal/devServer';
import { bundleWorkflows } from '../src/temporal/worker';
import { adminQuery as adminDbQuery, databaseUrl as urlOfDatabase } from '../test/helpers/adminDb';

const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROOT = path.join(__dirname, '..');
/** The console reporter's summary line (scripts/testReporter.mjs writes it). */
const SUMMARY_PREFIX = '#summary ';

/**
 * Files that restart a service every file shares (the machine's PostgreSQL cluster): they run after the
 * others, alone, and skip that step themselves when another client is connected.
 */
const SERIAL_FILES = new Set(['test/chaos/postgres.test.ts']);

function collect(target: string): string[] {
  if (statSync(target).isFile()) return [target];
  return readdirSync(target, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? collect(path.join(target, entry.name)) : entry.name.endsWith('.test.ts') ? [path.join(target, entry.name)] : []))
    .sort();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

const adminQuery = (statement: string) => adminDbQuery(ADMIN_URL, statement);
const databaseUrl = (name: string) => urlOfDatabase(ADMIN_URL, name);

interface FileResult {
  file: string;
  counts: Record<string, number>;
  exitCode: number;
  seconds: number;
  log: string;
}

interface Run {
  id: string;
  template: string;
  logDir: string;
  env: NodeJS.ProcessEnv;
  nodeFlags: string[];
}

/** Runs one test file in its own process on its own database; prints its outcome when it ends. */
async function runFile(run: Run, file: string, index: number): Promise<FileResult> {
  const dbName = `${run.id}_${index}`;
  const log = path.join(run.logDir, `${file.replace(/[/\\]/g, '__')}.log`);
  const started = Date.now();
  await adminQuery(`CREATE DATABASE ${dbName} TEMPLATE ${run.template}`);
  let consoleText = '';
  let stderr = '';
  let exitCode: number;
  try {
    exitCode = await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--test',
          '--test-timeout=600000',
          `--test-reporter=${path.join(__dirname, 'testReporter.mjs')}`,
          '--test-reporter-destination=stdout',
          '--test-reporter=spec',
          `--test-reporter-destination=${log}`,
          ...run.nodeFlags,
          file,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...run.env, DATABASE_URL: databaseUrl(dbName) } },
      );
      child.stdout.on('data', (chunk: Buffer) => (consoleText += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  } finally {
    await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch((err: unknown) => console.error(`could not drop ${dbName}:`, err));
  }
  const summaryLine = consoleText.split('\n').find((line) => line.startsWith(SUMMARY_PREFIX));
  const counts = summaryLine ? (JSON.parse(summaryLine.slice(SUMMARY_PREFIX.length)) as Record<string, number>) : {};
  const result: FileResult = { file, counts, exitCode, seconds: (Date.now() - started) / 1000, log };
  const failed = exitCode !== 0 || (counts.fail ?? 0) > 0 || !summaryLine;
  const details = consoleText
    .split('\n')
    .filter((line) => !line.startsWith(SUMMARY_PREFIX))
    .join('\n')
    .trimEnd();
  console.log(
    `${failed ? '✖' : '✔'} ${file} — ${counts.pass ?? 0}/${counts.tests ?? '?'} passed` +
      `${counts.skipped ? `, ${counts.skipped} skipped` : ''}${counts.todo ? `, ${counts.todo} todo` : ''} (${result.seconds.toFixed(1)} s)` +
      (details ? `\n${details}` : '') +
      (failed && stderr.trim() ? `\n    stderr of the runner:\n${stderr.trimEnd()}` : '') +
      (failed ? `\n    logs: ${path.relative(ROOT, log)}` : ''),
  );
  return result;
}

/** Runs `files` with at most `concurrency` at once, longest-expected first. */
async function runPool(run: Run, files: Array<{ file: string; index: number }>, concurrency: number): Promise<FileResult[]> {
  const queue = [...files];
  const results: FileResult[] = [];
  const lanes = Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) results.push(await runFile(run, next.file, next.index));
  });
  await Promise.all(lanes);
  return results;
}

/** Keeps the logs of the last few runs only (run ids start with their start time, so they sort by age). */
function pruneOldLogs(root: string, keep = 5): void {
  const runs = readdirSync(root)
    .filter((name) => name.startsWith('zwtest_'))
    .sort();
  for (const name of runs.slice(0, -keep)) rmSync(path.join(root, name), { recursive: true, force: true });
}

/** Bigger files first (a rough proxy for the slower ones), so the pool does not end on one long file. */
const bySizeDesc = (a: string, b: string) => statSync(b).size - statSync(a).size;

function concurrency(): number {
  const configured = process.env.TEST_CONCURRENCY;
  if (configured && /^[1-9]\d*$/.test(configured)) return Number(configured);
  return Math.max(2, os.availableParallelism());
}

async function main(): Promise<number> {
  const targets = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const files = [...new Set((targets.length ? targets : ['test']).flatMap(collect).map((f) => path.relative(ROOT, path.resolve(f))))];
  if (files.length === 0) throw new Error('No test files found');
  const started = Date.now();

  const id = `zwtest_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
  const logDir = path.join(ROOT, '.test-logs', id);
  mkdirSync(logDir, { recursive: true });
  pruneOldLogs(path.dirname(logDir));
  const template = `${id}_template`;
  await adminQuery(`CREATE DATABASE ${template}`);
  const db = createDb(databaseUrl(template), 1);
  await migrateToLatest(db);
  await db.destroy();

  const bundlePath = path.join(logDir, 'workflow-bundle.js');
  writeFileSync(bundlePath, (await bundleWorkflows()).code);

  const temporal = await startDevServer({ port: await freePort(), log: (l) => console.log(l) });
  const lanes = concurrency();
  console.log(`test run ${id}: ${files.length} files, ${lanes} at a time, Temporal dev server ${temporal.address}, logs in ${path.relative(ROOT, logDir)}/`);

  const run: Run = {
    id,
    template,
    logDir,
    nodeFlags: process.argv.slice(2).filter((a) => a.startsWith('-')),
    env: { ...process.env, TEMPORAL_ADDRESS: temporal.address, TEST_DATABASE_ADMIN_URL: ADMIN_URL, WORKFLOW_BUNDLE_PATH: bundlePath },
  };
  const indexed = files.map((file, index) => ({ file, index }));
  const results: FileResult[] = [];
  try {
    const concurrent = indexed.filter((f) => !SERIAL_FILES.has(f.file)).sort((a, b) => bySizeDesc(a.file, b.file));
    results.push(...(await runPool(run, concurrent, lanes)));
    results.push(
      ...(await runPool(
        run,
        indexed.filter((f) => SERIAL_FILES.has(f.file)),
        1,
      )),
    );
  } finally {
    await temporal.stop();
    await adminQuery(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
  }

  const total = (key: string) => results.reduce((n, r) => n + (r.counts[key] ?? 0), 0);
  const failedFiles = results.filter((r) => r.exitCode !== 0 || (r.counts.fail ?? 0) > 0 || r.counts.tests === undefined);
  console.log(
    `\n${total('tests')} tests in ${results.length} files: ${total('pass')} passed, ${total('fail')} failed, ${total('cancelled')} cancelled, ` +
      `${total('skipped')} skipped, ${total('todo')} todo — ${((Date.now() - started) / 60_000).toFixed(1)} min with ${lanes} at a time`,
  );
  for (const r of failedFiles) console.log(`  failed: ${r.file} (exit ${r.exitCode}; logs ${path.relative(ROOT, r.log)})`);
  return failedFiles.length ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
