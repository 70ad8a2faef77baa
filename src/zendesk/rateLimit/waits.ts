/** Sleeps that end early (a change, a cancellation) and never leave a timer or listener behind. */

export type OnWait = (remainingMs: number) => void | Promise<void>;

/** Sleeps `ms`, or less when `early` resolves first or `signal` aborts. */
export function sleepUnless(ms: number, early?: Promise<unknown>, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    signal?.addEventListener('abort', wake, { once: true });
    void early?.then(wake);
  });
}

/**
 * Sleeps `ms`, calling `onWait` first and then every `tickMs`, so an activity heartbeats through the wait.
 * A cancelled activity's heartbeat may throw: that ends the wait and reaches the caller.
 */
export async function waitTicking(ms: number, tickMs: number, onWait?: OnWait, signal?: AbortSignal): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    signal?.throwIfAborted();
    const left = until - Date.now();
    if (left <= 0) return;
    if (onWait) await onWait(left);
    await sleepUnless(Math.min(left, tickMs), undefined, signal);
  }
}

/** Resolves true when `turn` resolves, or false after `ms` or when `signal` aborts. */
export function turnOrTick(turn: Promise<unknown>, ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const end = (value: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', aborted);
      resolve(value);
    };
    const aborted = () => end(false);
    const timer = setTimeout(() => end(false), ms);
    signal?.addEventListener('abort', aborted, { once: true });
    void turn.then(() => end(true));
  });
}
