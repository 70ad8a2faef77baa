import type { Client } from '@temporalio/client';
import { optionalTsToDate } from '@temporalio/common/lib/time';
import { syncScheduleId } from './syncSchedule';

/**
 * When each integration's sync schedule next starts a sync, for a page of integrations, in **one**
 * Temporal call (ListSchedules, a visibility query on the schedule ids) instead of one describe per row.
 *
 * Why Temporal's own answer and not a time computed or stored here: the next action time is the
 * interval's next boundary *plus the schedule's jitter*, which the server derives from a hash it does not
 * document (up to 10 minutes off), and it depends on state only the schedule knows (paused with a note when
 * a grant is lost, updated on reconnect, removed by hand). A stored copy would have to be rewritten by
 * every code path that touches a schedule and would still drift from it. The list entry carries the same
 * `futureActionTimes` and `paused` as a describe (the scheduler refreshes them after every action and
 * change); the price is visibility's eventual consistency: a schedule created a moment ago (milliseconds on
 * the dev server) may not be listed yet, and then shows null, like a schedule that cannot be read.
 */
export async function nextSyncTimes(client: Client, integrationIds: readonly string[]): Promise<Map<string, Date | null>> {
  const result = new Map<string, Date | null>();
  if (integrationIds.length === 0) return result;
  const byScheduleId = new Map(integrationIds.map((id) => [syncScheduleId(id), id] as const));
  // Integration ids are UUIDs read from our own rows: nothing in them needs escaping inside the quotes.
  const query = `ScheduleId IN (${[...byScheduleId.keys()].map((s) => `"${s}"`).join(', ')})`;
  const response = await client.workflowService.listSchedules({
    namespace: client.options.namespace,
    query,
    // One more than can match: the whole answer fits in one page, so there is never a second call.
    maximumPageSize: byScheduleId.size + 1,
  });
  for (const entry of response.schedules ?? []) {
    const integrationId = entry.scheduleId ? byScheduleId.get(entry.scheduleId) : undefined;
    if (!integrationId) continue;
    const next = entry.info?.paused ? undefined : optionalTsToDate(entry.info?.futureActionTimes?.[0]);
    result.set(integrationId, next ?? null);
  }
  return result;
}
