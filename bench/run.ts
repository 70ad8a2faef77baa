/**
 * `npm run bench`: the benchmark suite, against the Zendesk sandbox, a real PostgreSQL and a real Temporal
 * dev server (all started here and removed at the end; see bench/harness.ts).
 *
 *   npm run bench                          # small preset (a few minutes on 2 cores)
 *   npm run bench -- --full                # the sizes of the performance issue (long)
 *   npm run bench -- --only=throughput,api # some scenarios (and those they need)
 *   npm run bench -- --profile             # also CPU-profile every worker (bench/profiles/*.cpuprofile)
 *   npm run bench -- --only=bigaccount     # scenario 8 alone, small (20,000 users); with --full 1,000,000
 *
 * Scenarios: throughput, memory, nochange, api, ratelimited, fanout, integrations, csv, fairness, webhooks, bigaccount (only
 * with --full or --only: at full size it takes most of an hour). Each measures its reference in the same
 * run (these machines are noisy: compare ratios, not absolute times). Writes bench/results.json and
 * bench/results.md (also printed). Exits 1 when a scenario fails to run; missed targets are reported, not fatal.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { ensureTemporalCli } from '../src/temporal/cli';
import { PRESETS, type Context, type Scenario, type ScenarioResult } from './context';
import { log, ROOT, startHarness } from './harness';
import { apiLoad } from './scenarios/apiLoad';
import { bigAccount } from './scenarios/bigAccount';
import { csvExport } from './scenarios/csvExport';
import { fairness } from './scenarios/fairness';
import { fanout } from './scenarios/fanout';
import { integrationList } from './scenarios/integrationList';
import { memory } from './scenarios/memory';
import { noChange } from './scenarios/noChange';
import { rateLimited } from './scenarios/rateLimited';
import { throughput } from './scenarios/throughput';
import { webhooks } from './scenarios/webhooks';

/** In run order: memory reads scenario 1's worker; nochange and api reuse its synced workspace. */
const SCENARIOS: Scenario[] = [throughput, memory, noChange, apiLoad, rateLimited, fanout, integrationList, csvExport, fairness, webhooks, bigAccount];

function parseArgs(argv: string[]): { full: boolean; only: string[] | undefined } {
  let full = false;
  let only: string[] | undefined;
  for (const arg of argv) {
    if (arg === '--full') full = true;
    else if (arg === '--profile') process.env.BENCH_PROFILE_DIR ??= path.join(ROOT, 'bench/profiles');
    else if (arg.startsWith('--only='))
      only = arg
        .slice('--only='.length)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`usage: npm run bench -- [--full] [--profile] [--only=${SCENARIOS.map((s) => s.name).join(',')}]\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  const known = new Set(SCENARIOS.map((s) => s.name));
  for (const name of only ?? []) if (!known.has(name)) throw new Error(`unknown scenario ${name} (known: ${[...known].join(', ')})`);
  return { full, only };
}

function selected(only: string[] | undefined, full: boolean): Scenario[] {
  if (!only) return SCENARIOS.filter((s) => full || !s.whenAsked);
  const want = new Set(only);
  // Add what the selected scenarios need, transitively.
  for (let grew = true; grew;) {
    grew = false;
    for (const s of SCENARIOS) {
      if (!want.has(s.name)) continue;
      for (const n of s.needs ?? []) {
        if (want.has(n)) continue;
        want.add(n);
        grew = true;
      }
    }
  }
  return SCENARIOS.filter((s) => want.has(s.name));
}

function machine(pgVersion: string, temporalVersion: string) {
  const cpu = os.cpus();
  let freeH: string;
  try {
    freeH = execFileSync('free', ['-h'], { encoding: 'utf8' }).trim();
  } catch {
    freeH = `${Math.round(os.totalmem() / 2 ** 30)} GiB total`;
  }
  return {
    nproc: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    memory: freeH,
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: os.loadavg().map((n) => Math.round(n * 100) / 100),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres: pgVersion,
    temporal: temporalVersion,
  };
}

function markdown(
  preset: string,
  results: Record<string, ScenarioResult>,
  errors: Record<string, string>,
  info: ReturnType<typeof machine>,
  totalMs: number,
): string {
  const lines: string[] = [];
  lines.push(`# Benchmark results (${preset} preset)`, '');
  lines.push(
    `${new Date().toISOString()} · ${info.nproc} × ${info.cpuModel} · ${info.totalMemGiB} GiB · Node ${info.node} · ${info.postgres} · Temporal ${info.temporal} · load at start ${info.loadAverageAtStart.join(' ')} · ${Math.round(totalMs / 1000)} s in all`,
    '',
  );
  for (const s of SCENARIOS) {
    const r = results[s.name];
    if (!r && !errors[s.name]) continue;
    lines.push(`## ${s.title}`, '');
    if (!r) {
      lines.push(`**Failed to run:** ${errors[s.name]}`, '');
      continue;
    }
    lines.push('| metric | value | target | met |', '|---|---|---|---|');
    for (const row of r.rows) {
      const met = row.met === undefined ? '' : row.met ? '✅' : '❌';
      lines.push(`| ${row.metric} | ${row.value.replace(/\|/g, '\\|')} | ${row.target ?? ''} | ${met} |`);
    }
    for (const n of r.notes ?? []) lines.push('', n);
    lines.push('');
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  const { full, only } = parseArgs(process.argv.slice(2));
  const preset = PRESETS[full ? 'full' : 'small'];
  const scenarios = selected(only, full);
  const started = Date.now();
  log(`preset ${preset.name}: ${scenarios.map((s) => s.name).join(', ')}`);
  const temporalVersion = execFileSync(ensureTemporalCli(log), ['--version'], { encoding: 'utf8' })
    .trim()
    .replace(/^temporal version\s*/, '');
  const h = await startHarness();
  const results: Record<string, ScenarioResult> = {};
  const errors: Record<string, string> = {};
  try {
    const pgVersion = (await sql<{ v: string }>`select current_setting('server_version') as v`.execute(h.db)).rows[0]!.v;
    const info = machine(`PostgreSQL ${pgVersion}`, temporalVersion);
    const ctx: Context = { h, preset, results };
    for (const s of scenarios) {
      const t0 = Date.now();
      log(`── ${s.title}`);
      try {
        results[s.name] = await s.run(ctx);
        log(`── ${s.name} done in ${Math.round((Date.now() - t0) / 1000)} s`);
      } catch (err) {
        errors[s.name] = err instanceof Error ? err.message : String(err);
        log(`── ${s.name} FAILED: ${(err as Error).stack ?? err}`);
      }
    }
    // Written before the cleanup, so that a failing cleanup cannot lose them.
    const totalMs = Date.now() - started;
    const md = markdown(preset.name, results, errors, info, totalMs);
    const json = { preset, startedAt: new Date(started).toISOString(), totalMs, machine: info, results, errors };
    writeFileSync(path.join(ROOT, 'bench/results.json'), JSON.stringify(json, null, 2) + '\n');
    writeFileSync(path.join(ROOT, 'bench/results.md'), md + '\n');
    process.stdout.write(`\n${md}\n`);
    log(`wrote bench/results.json and bench/results.md (${Math.round(totalMs / 1000)} s)`);
  } finally {
    await h.stop();
  }
  return Object.keys(errors).length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
