// Failures on demand: random ones at configured rates (seeded, so a run is reproducible) and a
// scripted FIFO queue that makes the next matching requests fail in a chosen way.

import { Prng } from './prng';
import type { FaultConfig, FaultKind, ScriptedFault } from './types';

export interface ActiveFault {
  kind: FaultKind;
  /** null: send no Retry-After (a 503 meaning maintenance rather than a transient failure). */
  retryAfterSeconds: number | null;
  slowMs: number;
  malformed: 'truncated' | 'shape';
}

const DEFAULT_SLOW_MS = 1500;

interface Queued extends ScriptedFault {
  remaining: number;
}

export class FaultController {
  private config: FaultConfig | null = null;
  private rng = new Prng(1);
  private queue: Queued[] = [];

  set(config: FaultConfig | null | undefined): void {
    this.config = config ?? null;
    this.rng = new Prng(config?.seed ?? 1);
  }

  inject(faults: ScriptedFault[]): void {
    for (const f of faults) this.queue.push({ ...f, remaining: Math.max(1, f.count ?? 1) });
  }

  clear(): void {
    this.config = null;
    this.queue = [];
  }

  /** Scripted faults not yet used up. */
  pending(): number {
    return this.queue.reduce((n, f) => n + f.remaining, 0);
  }

  /**
   * The fault for this request, if any. `rawPath` is the path below the subdomain as sent,
   * `path` the same without `.json`; `dataEndpoint` is true for /api/v2 endpoints other than
   * the OAuth token API, the only ones random faults and path-less scripted faults hit.
   */
  next(rawPath: string, path: string, dataEndpoint: boolean): ActiveFault | null {
    const qi = this.queue.findIndex((f) => matches(f, rawPath, path, dataEndpoint));
    if (qi >= 0) {
      const f = this.queue[qi];
      f!.remaining--;
      if (f!.remaining <= 0) this.queue.splice(qi, 1);
      return {
        kind: f!.kind,
        retryAfterSeconds: f!.retryAfterSeconds === undefined ? 1 : f!.retryAfterSeconds,
        slowMs: f!.slowMs ?? DEFAULT_SLOW_MS,
        malformed: f!.malformed ?? 'truncated',
      };
    }
    const c = this.config;
    if (!c || !dataEndpoint) return null;
    const r = this.rng.next();
    const table: Array<[FaultKind, number | undefined]> = [
      ['503', c.rate503],
      ['500', c.rate500],
      ['429', c.rate429],
      ['malformed', c.rateMalformed],
      ['slow', c.rateSlow],
    ];
    let acc = 0;
    for (const [kind, rate] of table) {
      acc += rate ?? 0;
      if (r < acc) {
        return {
          kind,
          retryAfterSeconds: c.retryAfterSeconds ?? 1,
          slowMs: c.slowMs ?? DEFAULT_SLOW_MS,
          malformed: this.rng.chance(0.5) ? 'truncated' : 'shape',
        };
      }
    }
    return null;
  }
}

function matches(f: ScriptedFault, rawPath: string, path: string, dataEndpoint: boolean): boolean {
  if (f.path === undefined) return dataEndpoint;
  if (typeof f.path === 'string') {
    const want = f.path.replace(/\.json$/, '');
    return want === path;
  }
  f.path.lastIndex = 0;
  if (f.path.test(rawPath)) return true;
  f.path.lastIndex = 0;
  return f.path.test(path);
}

/** A 200 body that a strict client must reject: cut in the middle, or the right JSON with the wrong shape. */
export function malformBody(body: unknown, how: 'truncated' | 'shape'): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? {});
  if (how === 'truncated') return text.slice(0, Math.max(1, Math.floor(text.length / 2)));
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const wrong: Record<string, unknown> = {};
    // Arrays become objects and objects become strings, so every envelope field has the wrong type.
    for (const [k, v] of Object.entries(body)) {
      wrong[k] = Array.isArray(v) ? { unexpected: 'object instead of array' } : v && typeof v === 'object' ? '[object]' : v;
    }
    if (Object.keys(wrong).length > 0) return JSON.stringify(wrong);
  }
  return JSON.stringify({ unexpected: true });
}
