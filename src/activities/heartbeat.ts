import { Context } from '@temporalio/activity';

/**
 * Keeps a long activity's heartbeat going through every wait inside it, so its heartbeat timeout can be
 * short (a SIGKILLed worker's chunk is retried elsewhere after that timeout) without legitimate waits
 * tripping it: a Zendesk request (up to ZENDESK_REQUEST_TIMEOUT), a page's PostgreSQL transaction, a wait
 * for a connection from the pool, a rate-limit wait (up to a minute), a token refresh that waits for
 * another worker's row lock.
 *
 * It heartbeats every `everyMs` with the latest details, but only while the activity shows signs of life:
 * `progress()` (called by the caller on each page, each finished request, each rate-limit tick) must have
 * been called within `stallMs`. A chunk stuck on a wait that never ends stops heartbeating after `stallMs`
 * and is then retried like one whose worker died, instead of holding its stream until the start-to-close
 * timeout.
 *
 * The SDK throttles heartbeats to the server (at most one per 0.8 × heartbeat timeout, the latest details
 * winning), so beating locally every few seconds costs nothing.
 */
export interface HeartbeatPulse {
  /** Heartbeats now with these details (kept for the periodic beats) and counts as progress. */
  beat(details?: unknown): void;
  /** Counts as a sign of life without changing the details. */
  progress(): void;
}

export interface PulseOptions {
  /** How often to heartbeat during waits. Default 2 s. */
  everyMs?: number;
  /** Stop heartbeating when nothing made progress for this long. */
  stallMs: number;
}

const PULSE_EVERY_MS = 2_000;

export async function withHeartbeatPulse<T>(options: PulseOptions, fn: (pulse: HeartbeatPulse) => Promise<T>): Promise<T> {
  const context = Context.current();
  let details: unknown;
  let hasDetails = false;
  let lastProgress = Date.now();
  const send = () => (hasDetails ? context.heartbeat(details) : context.heartbeat());
  const pulse: HeartbeatPulse = {
    beat(next?: unknown) {
      if (next !== undefined) {
        details = next;
        hasDetails = true;
      }
      lastProgress = Date.now();
      send();
    },
    progress() {
      lastProgress = Date.now();
    },
  };
  const timer = setInterval(() => {
    if (Date.now() - lastProgress > options.stallMs) return;
    try {
      send();
    } catch {
      // never an uncaught exception from a timer; the activity's own beats report real problems
    }
  }, options.everyMs ?? PULSE_EVERY_MS);
  timer.unref();
  try {
    return await fn(pulse);
  } finally {
    clearInterval(timer);
  }
}
