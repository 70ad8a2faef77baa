import { readFile } from 'node:fs/promises';
import type { Harness } from './harness';

/** What the benchmarks read of the system's processes from /proc: memory and CPU time. */

/** Memory of a process from /proc/<pid>/status, in bytes. */
export interface ProcMemory {
  rss: number;
  hwm: number;
}

export async function readProcMemory(pid: number): Promise<ProcMemory | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** CPU time (user + system, ms) of a process from /proc/<pid>/stat; 0 when it is gone. */
async function procCpuMs(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the command name, in clock ticks.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
const CLOCK_TICKS = 100;

/** CPU time by part of the system, so a scenario can show where the time goes. */
export interface CpuSnapshot {
  /** The PostgreSQL backends serving the benchmark's database (processes that ended meanwhile are lost). */
  postgres: number;
  temporal: number;
  /** This process: the sandbox (and the load generator). */
  bench: number;
  /** CPU time of each PostgreSQL backend by pid, so that deltas survive backends coming and going. */
  backends: Map<number, number>;
  [pid: string]: number | Map<number, number>;
}

export async function cpuSnapshot(h: Pick<Harness, 'dbName' | 'temporal'>, pids: Record<string, number> = {}): Promise<CpuSnapshot> {
  const backends = new Map<number, number>();
  const { readdir } = await import('node:fs/promises');
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmd.startsWith('postgres: ') && cmd.includes(` ${h.dbName} `)) backends.set(Number(entry), await procCpuMs(Number(entry)));
  }
  const usage = process.cpuUsage();
  const postgres = [...backends.values()].reduce((a, b) => a + b, 0);
  const snapshot: CpuSnapshot = { postgres, backends, temporal: await procCpuMs(h.temporal.process.pid!), bench: (usage.user + usage.system) / 1000 };
  for (const [name, pid] of Object.entries(pids)) snapshot[name] = await procCpuMs(pid);
  return snapshot;
}

/**
 * CPU time (ms) spent between two snapshots, by part. PostgreSQL counts each backend alive at the end from
 * its earlier reading (or from zero if it is new); backends that ended in between are not counted.
 */
export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    if (k === 'backends' || typeof v !== 'number') continue;
    out[k] = Math.round(v - ((before[k] as number | undefined) ?? 0));
  }
  let postgres = 0;
  for (const [pid, ms] of after.backends) postgres += ms - (before.backends.get(pid) ?? 0);
  out.postgres = Math.round(postgres);
  return out;
}
