import type { Client } from '@temporalio/client';
import { tsToDate } from '@temporalio/common/lib/time';
import { syncScheduleId } from './syncSchedule';

/** The first of `times` after `now`, else null (every listed time passed, or none: paused, absent). */
export const nextOf = (times: readonly Date[] | undefined, now = Date.now()): Date | null => times?.find((t) => t.getTime() > now) ?? null;

/**
 * When each integration's sync schedule will start its next syncs (the few next action times Temporal
 * lists, soonest first; empty when paused), for a page of integrations, in **one** Temporal call
 * (ListSchedules, a visibility query on the schedule ids) instead of one describe per row. An integration
 * without a visible schedule is absent from the map; one whose schedule is listed before the scheduler has
 * computed its first times (right after its creation) is absent too: neither is an answer to keep.
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
export async function scheduledSyncTimes(client: Client, integrationIds: readonly string[]): Promise<Map<string, Date[]>> {
  const result = new Map<string, Date[]>();
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
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a decoded protobuf may leave a repeated field out
  for (const entry of response.schedules ?? []) {
    const integrationId = entry.scheduleId ? byScheduleId.get(entry.scheduleId) : undefined;
    if (!integrationId) continue;
    const times = (entry.info?.futureActionTimes ?? []).map(tsToDate);
    if (entry.info?.paused) result.set(integrationId, []);
    else if (times.length > 0) result.set(integrationId, times);
  }
  return result;
}
