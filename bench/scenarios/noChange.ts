/**
 * Scenario 3: no-change re-sync. On scenario 1's synced workspace, with nothing changed at Zendesk, a sync
 * is requested through the API (POST /v1/integrations/:id/sync) a few times. Requests per stream are
 * counted by the sandbox; time is taken from sync_runs and from the API call to the finished run.
 */
import { log, runDurationMs, sleep, syncRunIds } from '../harness';
import { fmt, syncedWorkspace, type Scenario } from '../context';

const STREAMS = {
  users: 'GET /api/v2/incremental/users/cursor',
  ticketEvents: 'GET /api/v2/incremental/ticket_events',
} as const;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export const noChange: Scenario = {
  name: 'nochange',
  title: '3. No-change re-sync',
  async run(ctx) {
    const { h, preset } = ctx;
    const synced = await syncedWorkspace(ctx);
    const ws = h.sandbox.workspace(synced.subdomain);
    const worker = await h.startWorker();
    const runs: Array<{ syncMs: number; wallMs: number; users: number; ticketEvents: number; total: number; usersSynced: number; eventsSynced: number }> = [];
    try {
      for (let i = 0; i < preset.noChange.repeats; i++) {
        const previous = await syncRunIds(h.db, synced.integrationId);
        const before = ws.stats();
        const started = performance.now();
        const res = await h.api('POST', `/v1/integrations/${synced.integrationId}/sync`, undefined, h.tenantKey);
        if (res.status !== 202) throw new Error(`sync request failed: ${res.status} ${res.text}`);
        const run = await h.waitForSync(synced.integrationId, { notIds: previous, pollMs: 20 });
        const wallMs = performance.now() - started;
        if (run.status !== 'succeeded') throw new Error(`re-sync ${run.status}: ${run.error}`);
        const after = ws.stats();
        const count = (k: string) => (after.byEndpoint[k] ?? 0) - (before.byEndpoint[k] ?? 0);
        runs.push({
          syncMs: runDurationMs(run),
          wallMs,
          users: count(STREAMS.users),
          ticketEvents: count(STREAMS.ticketEvents),
          total: after.apiRequests - before.apiRequests,
          usersSynced: run.users_synced,
          eventsSynced: run.ticket_events_synced,
        });
        await sleep(200);
      }
    } finally {
      await worker.stop();
    }
    const worstUsers = Math.max(...runs.map((r) => r.users));
    const worstEvents = Math.max(...runs.map((r) => r.ticketEvents));
    const unchanged = runs.every((r) => r.usersSynced === 0 && r.eventsSynced === 0);
    log(`nochange: requests users ${worstUsers}, events ${worstEvents}; median ${fmt(median(runs.map((r) => r.syncMs))!)} ms`);
    return {
      title: this.title,
      metrics: { workspace: { users: synced.users, events: synced.events }, runs },
      rows: [
        { metric: 'workspace', value: `${fmt(synced.users)} users, ${fmt(synced.events)} ticket events, ${runs.length} re-syncs` },
        { metric: 'requests: users stream (most of any re-sync)', value: String(worstUsers), target: '1', met: worstUsers === 1 },
        { metric: 'requests: ticket events stream (most of any re-sync)', value: String(worstEvents), target: '1', met: worstEvents === 1 },
        {
          metric: 'rows written',
          value: unchanged ? '0 users, 0 events' : runs.map((r) => `${r.usersSynced}/${r.eventsSynced}`).join(', '),
          target: '0',
          met: unchanged,
        },
        { metric: 'time, median (sync_runs)', value: `${fmt(median(runs.map((r) => r.syncMs))!)} ms` },
        { metric: 'time, median (API call → run finished)', value: `${fmt(median(runs.map((r) => r.wallMs))!)} ms` },
      ],
    };
  },
};
