/** A place in a `RefreshQueue`: `turn` resolves when the work may start. */
export interface RefreshTicket {
  readonly turn: Promise<void>;
  /** Starts the work now, outside the limit (a reader came to wait for it). */
  promote(): void;
  /** Whether `promote` started it. */
  readonly promoted: boolean;
  /** Frees the slot the work held, if any (call once, when the work is done). */
  leave(): void;
}

/**
 * Limits how many background refreshes run at once. A cache's refreshes start together when the
 * entries they refresh were computed together; run at once, their queries took both cores of the
 * benchmark machine from the requests being served (docs/benchmarks.md, scenario 6). One at a time,
 * they share the machine with the readers instead. Work that a reader waits for is not background work:
 * `promote` starts it at once.
 */
export class RefreshQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly concurrency: number) {}

  enter(): RefreshTicket {
    let started = false;
    let promoted = false;
    let holdsSlot = false;
    let wake!: () => void;
    const turn = new Promise<void>((resolve) => (wake = resolve));
    const start = (withSlot: boolean) => {
      if (started) return false;
      started = true;
      holdsSlot = withSlot;
      if (withSlot) this.running++;
      wake();
      return true;
    };
    const grant = () => start(true);
    if (this.running < this.concurrency) grant();
    else this.waiting.push(grant);
    return {
      turn,
      promote: () => {
        if (start(false)) promoted = true;
      },
      get promoted() {
        return promoted;
      },
      leave: () => {
        if (!holdsSlot) return;
        holdsSlot = false;
        this.running--;
        this.next();
      },
    };
  }

  private next(): void {
    // A promoted ticket's grant is still queued: calling it takes no slot, so go on to the next.
    while (this.running < this.concurrency && this.waiting.length > 0) this.waiting.shift()!();
  }
}
