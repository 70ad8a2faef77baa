// Keeps a sandbox's state in a JSON file (`SandboxOptions.statePath`), so a restarted sandbox — the one
// `npm run dev` runs — still knows its workspaces and the tokens it issued. Written atomically (temp file
// + rename, mode 0600: the tokens are the sandbox's fake ones, still tokens) a moment after each change
// and on close; read once at start.

import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from './types';
import type { WorkspaceSnapshot } from './workspaceTypes';

export interface SandboxSnapshot {
  version: 1;
  savedAt: string;
  workspaces: WorkspaceSnapshot[];
}

/** The snapshot in `file`; undefined when there is none or it cannot be read (then it is set aside). */
export function readSnapshot(file: string, logger: Logger): SandboxSnapshot | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<SandboxSnapshot> | null;
    if (parsed?.version !== 1 || !Array.isArray(parsed.workspaces)) throw new Error(`unknown format (version ${String(parsed?.version)})`);
    return parsed as SandboxSnapshot;
  } catch (err) {
    const aside = `${file}.unreadable-${Date.now()}`;
    try {
      renameSync(file, aside);
    } catch {
      // leave it; it will be overwritten by the next save
    }
    logger.warn({ file, aside, error: (err as Error).message }, 'zendesk sandbox state unreadable; starting fresh');
    return undefined;
  }
}

/** Writes `text` to `file` so that a reader (or a crash) sees the old content or the new, never half. */
function writeFileAtomic(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, file);
    chmodSync(file, 0o600);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean
    }
    throw err;
  }
}

/** Saves `collect()` to `file` `delayMs` after the first of a burst of changes, and on `flush`. */
export class SnapshotWriter {
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;

  constructor(
    private readonly file: string,
    private readonly collect: () => SandboxSnapshot,
    private readonly logger: Logger,
    private readonly delayMs = 250,
  ) {}

  /** Something changed: save soon. */
  changed(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.delayMs);
    this.timer.unref(); // close() flushes; a pending save never keeps a process alive
  }

  /** Saves now if anything changed since the last save. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.dirty) return;
    this.dirty = false;
    try {
      writeFileAtomic(this.file, JSON.stringify(this.collect()));
    } catch (err) {
      this.dirty = true;
      this.logger.warn({ file: this.file, error: (err as Error).message }, 'could not save the zendesk sandbox state');
    }
  }
}
