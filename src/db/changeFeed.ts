import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../logger';

/** The channel of migration 20261201T120000_report_change_notify. */
export const CHANGE_CHANNEL = 'report_changes';
/** The listener's application_name (visible in pg_stat_activity). */
export const CHANGE_FEED_APPLICATION_NAME = 'zendesk-api-report-cache';

export interface ChangeFeedOptions {
  connectionString: string;
  /** The channel listened to (default the report cache's, CHANGE_CHANNEL). */
  channel?: string;
  logger: Logger;
  /** Sends `NOTIFY <channel>, payload` on another connection than the listener's (the process's pool). */
  sendProbe: (payload: string) => Promise<unknown>;
  /** `pg_backend_pid()` of another connection (the API's pool). */
  otherBackendPid: () => Promise<number>;
  /** A notification (other than our probes): an invalidation tag such as `integration:<id>`, `tenant:<id>`, `all`. */
  onChange: (tag: string) => void;
  /** Notifications are known to arrive: clear and enable the caches. */
  onUp: () => void;
  /** Notifications may be missed from now on: disable (and clear) the caches. */
  onDown: (reason: string) => void;
  applicationName?: string;
  /** How long a probe may take to come back. Default 3 s. */
  probeTimeoutMs?: number;
  /** How often a probe checks a connected feed end to end. Default 30 s. */
  healthCheckMs?: number;
  /** Reconnect delays: doubling from `initialMs` up to `maxMs`. Default 250 ms … 30 s. */
  backoff?: { initialMs: number; maxMs: number };
}

/**
 * A process's LISTEN connection to one channel: the API's feeds the report cache's invalidations, a worker's
 * wakes its webhook relay (src/webhooks/relay.ts).
 *
 * The cache is only enabled while notifications are known to arrive. On connect: `LISTEN`, then a probe
 * (a NOTIFY sent through the pool, i.e. another backend) must come back before `onUp` — this also catches
 * servers where LISTEN succeeds but other sessions' notifications never reach us (a transaction-pooling
 * PgBouncer); there the feed stays down and the cache disabled. A server that gives the listener no
 * session of its own (the embedded PGlite: every connection is one backend, where LISTEN would even send
 * notifications to other connections) is detected before LISTEN by its backend pid, and the feed gives up
 * for good: the cache stays off. A connected feed is
 * probed again every `healthCheckMs` (a half-open TCP connection raises no error by itself).
 * Any error, end of the connection or lost probe: `onDown` first (so no request is answered from a
 * cache that may have missed a change), then reconnect with backoff. Nothing here throws or leaves an
 * unhandled 'error' event: PostgreSQL restarting only turns the cache off for a while. The feed's socket
 * and timers do not keep the process alive; `close()` on shutdown.
 */
export class ChangeFeed {
  private client: pg.Client | undefined;
  private up = false;
  private closed = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private readonly probes = new Map<string, () => void>();
  private warnedSinceUp = false;

  private readonly channel: string;

  constructor(private readonly options: ChangeFeedOptions) {
    this.channel = options.channel ?? CHANGE_CHANNEL;
  }

  /** True while notifications are known to arrive. */
  get connected(): boolean {
    return this.up;
  }

  start(): void {
    this.run();
  }

  /** connect() never rejects by design; this is the last guard (a throwing logger, a callback). */
  private run(): void {
    this.connect().catch((err: unknown) => {
      const client = this.client;
      if (client) this.failed(client, err instanceof Error ? err.message : String(err));
    });
  }

  private log(level: 'info' | 'warn' | 'debug', obj: object, msg: string): void {
    try {
      this.options.logger[level](obj, msg);
    } catch {
      // logging must never stop the feed
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.healthTimer);
    this.setDown('shutting down');
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({
      connectionString: this.options.connectionString,
      application_name: this.options.applicationName ?? CHANGE_FEED_APPLICATION_NAME,
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
    });
    this.client = client;
    const fail = (reason: string) => this.failed(client, reason);
    client.on('error', (err) => fail(err.message));
    client.on('end', () => fail('the connection ended'));
    client.on('notification', (msg) => {
      if (this.client !== client || msg.channel !== this.channel) return;
      const payload = msg.payload ?? '';
      if (payload.startsWith('probe:')) {
        this.probes.get(payload)?.();
        return;
      }
      try {
        this.options.onChange(payload);
      } catch (err) {
        // An invalidation that did not happen: nothing cached can be trusted any more.
        fail(`applying a change failed: ${(err as Error).message}`);
      }
    });
    try {
      await client.connect();
      // Never keep the process alive for the feed alone.
      (client as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream?.unref?.();
      const own = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      if (Number(own.rows[0]?.pid) === (await this.options.otherBackendPid())) {
        this.client = undefined;
        this.closed = true;
        client.removeAllListeners('notification');
        await client.end().catch(() => undefined);
        this.log(
          'info',
          {},
          'report cache off: this PostgreSQL server gives connections no session of their own (e.g. the embedded PGlite), so it cannot deliver change notifications',
        );
        return;
      }
      await client.query(`LISTEN ${this.channel}`);
      await this.probe(client);
    } catch (err) {
      fail((err as Error).message);
      return;
    }
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- close() may run during the await above
    if (this.client !== client || this.closed) return;
    this.attempt = 0;
    this.up = true;
    this.warnedSinceUp = false;
    this.options.onUp();
    this.log('info', {}, 'report cache enabled: change notifications arrive');
    this.scheduleHealthCheck(client);
  }

  /** A NOTIFY through the pool must come back on this connection in time. */
  private async probe(client: pg.Client): Promise<void> {
    const payload = `probe:${randomBytes(9).toString('base64url')}`;
    const timeoutMs = this.options.probeTimeoutMs ?? 3_000;
    let timer: NodeJS.Timeout | undefined;
    const arrived = new Promise<void>((resolve, reject) => {
      this.probes.set(payload, resolve);
      timer = setTimeout(() => reject(new Error(`a test notification did not arrive within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
    });
    arrived.catch(() => undefined);
    try {
      await this.options.sendProbe(payload);
      await arrived;
    } finally {
      clearTimeout(timer);
      this.probes.delete(payload);
    }
    if (this.client !== client) throw new Error('the connection was replaced');
  }

  private scheduleHealthCheck(client: pg.Client): void {
    this.healthTimer = setTimeout(() => {
      if (this.client !== client || this.closed) return;
      this.probe(client).then(
        () => this.scheduleHealthCheck(client),
        (err: Error) => this.failed(client, err.message),
      );
    }, this.options.healthCheckMs ?? 30_000);
    this.healthTimer.unref();
  }

  private setDown(reason: string): void {
    const wasUp = this.up;
    this.up = false;
    try {
      this.options.onDown(reason);
    } catch {
      // the caches' own failure; the feed goes on reconnecting
    }
    if (wasUp) this.log('warn', { reason }, 'report cache disabled: change notifications may be missed; reconnecting');
  }

  private failed(client: pg.Client, reason: string): void {
    if (this.client !== client) return; // an old connection's late events
    this.client = undefined;
    clearTimeout(this.healthTimer);
    if (!this.closed) {
      const wasUp = this.up;
      this.setDown(reason);
      if (wasUp) {
        this.warnedSinceUp = true;
      } else if (!this.warnedSinceUp) {
        this.log('warn', { reason }, 'report cache disabled: the change feed cannot listen; retrying');
        this.warnedSinceUp = true;
      } else {
        this.log('debug', { reason }, 'report cache change feed: still not listening');
      }
    }
    client.removeAllListeners('notification');
    client.end().catch(() => undefined);
    if (this.closed) return;
    const { initialMs, maxMs } = this.options.backoff ?? { initialMs: 250, maxMs: 30_000 };
    const delay = Math.min(maxMs, initialMs * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt = Math.min(this.attempt + 1, 20);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.run(), delay);
    this.reconnectTimer.unref();
  }
}
