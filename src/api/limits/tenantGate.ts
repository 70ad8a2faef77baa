/**
 * At most `concurrency` heavy operations (report computations and users.csv exports) of one tenant at once in this API process, the next `maxQueued`
 * waiting their turn in memory (holding no database connection), anything beyond refused. A budget bounds
 * how many report computations a tenant starts per window; this bounds how many run at once, so a tenant
 * whose burst allows a hundred heavy reports cannot run them all together and take every PostgreSQL core
 * from the other tenants. A dashboard that asks for ten reports at once gets them all, a few at a time.
 */
export class TenantGate {
  private readonly tenants = new Map<string, { running: number; waiting: Array<() => void> }>();

  constructor(
    readonly concurrency: number,
    readonly maxQueued: number,
  ) {}

  /** Resolves with the release function once a slot is free; undefined at once when the queue is full. */
  enter(tenantId: string): Promise<() => void> | undefined {
    let t = this.tenants.get(tenantId);
    if (!t) this.tenants.set(tenantId, (t = { running: 0, waiting: [] }));
    const state = t;
    const release = () => {
      let done = false;
      return () => {
        if (done) return;
        done = true;
        const next = state.waiting.shift();
        if (next) next();
        else if (--state.running === 0) this.tenants.delete(tenantId);
      };
    };
    if (state.running < this.concurrency) {
      state.running++;
      return Promise.resolve(release());
    }
    if (state.waiting.length >= this.maxQueued) return undefined;
    // A slot handed over by `release` keeps `running` as it is: the waiter takes it.
    return new Promise((resolve) => state.waiting.push(() => resolve(release())));
  }

  /** Computations running and waiting for a tenant (tests, metrics). */
  usage(tenantId: string): { running: number; waiting: number } {
    const t = this.tenants.get(tenantId);
    return { running: t?.running ?? 0, waiting: t?.waiting.length ?? 0 };
  }
}
