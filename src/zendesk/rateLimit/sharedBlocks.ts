import type { Db } from '../../db/database';
import { readRateLimitBlocks, recordRateLimitBlock } from '../../db/repositories/rateLimits';
import type { ZendeskBucket } from '../errors';

const ALL_BUCKETS: readonly ZendeskBucket[] = ['account', 'incremental', 'users-cursor'];

interface Reading {
  /** Local epoch ms the read was sent: its age counts from then. */
  sentAt: number;
  /** Local epoch ms until which each bucket is blocked, once the read is back. */
  blocks: Promise<Map<ZendeskBucket, number>>;
  settled: boolean;
}

/**
 * The Retry-After and pacing blocks every process shares (`zendesk_rate_limits`), read by this process
 * through one reading per workspace: a read in flight is joined, and one back is reused for `maxAgeMs`
 * by callers that accept that. So N requests of a process waiting on a workspace cost about one query
 * per `maxAgeMs`, not N queries per wake-up.
 */
export class SharedBlocks {
  private readonly readings = new Map<string, Reading>();

  /** `maxAgeMs`: how old a reading a waiter may use (default 250 ms). */
  constructor(
    private readonly db: Db,
    private readonly maxAgeMs = 250,
  ) {}

  /**
   * When each of `buckets` is blocked until (local epoch ms; absent when not blocked). `fresh`: no
   * reading back already, only one in flight (it ends after the caller came), as a request about to be
   * sent needs; otherwise one up to `maxAgeMs` old will do (a waiter re-checking).
   */
  async read(workspace: string, buckets: readonly ZendeskBucket[], fresh: boolean): Promise<Map<ZendeskBucket, number>> {
    const current = this.readings.get(workspace);
    const usable = current && (!current.settled || (!fresh && Date.now() - current.sentAt < this.maxAgeMs));
    const all = await (usable ? current : this.startReading(workspace)).blocks;
    return new Map(buckets.flatMap((b) => (all.has(b) ? [[b, all.get(b)!] as const] : [])));
  }

  /** Blocks the buckets for at least `delayMs` from now, for every process (the database's clock). */
  record(workspace: string, buckets: readonly ZendeskBucket[], delayMs: number): Promise<void> {
    return recordRateLimitBlock(this.db, workspace, buckets, delayMs);
  }

  private startReading(workspace: string): Reading {
    this.forgetOldReadings();
    const reading: Reading = {
      sentAt: Date.now(),
      settled: false,
      blocks: readRateLimitBlocks(this.db, workspace, ALL_BUCKETS).then((stored) => {
        const now = Date.now();
        return new Map([...stored].map(([b, ms]) => [b as ZendeskBucket, now + ms]));
      }),
    };
    this.readings.set(workspace, reading);
    const settle = () => {
      reading.settled = true;
    };
    // A failed read is not kept: the next caller reads again (this one's callers get the error).
    reading.blocks.then(settle, () => {
      settle();
      if (this.readings.get(workspace) === reading) this.readings.delete(workspace);
    });
    return reading;
  }

  /** Readings past their age are of no use: dropped, so the map holds only the workspaces in use. */
  private forgetOldReadings(): void {
    const now = Date.now();
    for (const [workspace, reading] of this.readings) if (reading.settled && now - reading.sentAt >= this.maxAgeMs) this.readings.delete(workspace);
  }
}
