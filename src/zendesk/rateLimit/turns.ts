import { Mutex } from 'async-mutex';
import { turnOrTick, type OnWait } from './waits';

/**
 * First-come, first-served turns per key (a workspace's endpoint bucket): one holder at a time.
 * async-mutex's Mutex queues its waiters in order (p-limit and p-queue, the other candidates, are ESM-only
 * and this package is CommonJS); what it lacks, leaving the queue early, is done by taking the turn when it
 * comes and handing it on at once.
 */
export class Turns {
  private readonly mutexes = new Map<string, Mutex>();

  /**
   * Waits for the turn on `key` and returns its release. While queued the caller's `onWait` keeps being
   * called every `tickMs` (a queued activity still heartbeats); if `onWait` throws or `signal` aborts, the
   * caller leaves the queue with that error without holding up the ones behind it.
   */
  async take(key: string, onWait: OnWait | undefined, tickMs: number, signal?: AbortSignal): Promise<() => void> {
    let mutex = this.mutexes.get(key);
    if (!mutex) this.mutexes.set(key, (mutex = new Mutex()));
    const turn = mutex.acquire();
    const done = (release: () => void) => {
      release();
      // Idle (no holder, nobody queued): forget the key, so the map holds only keys in use.
      if (!mutex.isLocked() && this.mutexes.get(key) === mutex) this.mutexes.delete(key);
    };
    if (onWait || signal) {
      try {
        while (!(await turnOrTick(turn, tickMs, signal))) {
          signal?.throwIfAborted();
          await onWait?.(tickMs);
        }
      } catch (err) {
        void turn.then(done);
        throw err;
      }
    }
    const release = await turn;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      done(release);
    };
  }
}
