import { ActivityFailure, ApplicationFailure, isCancellation, log, proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { HousekeepingActivities } from '../activities/housekeeping';

/**
 * The deployment's housekeeping, run by the schedule `zendesk-housekeeping` (src/temporal/housekeepingSchedule.ts):
 * prunes what would otherwise grow without bound, one rule after the other (one database at a time is
 * gentler beside the syncs than all at once). A rule that keeps failing does not stop the others; the run
 * then fails naming it, so the Web UI shows it, and the next run tries again.
 */

/** In run order: the small tables first, the large walk (ticket events) last. */
export const HOUSEKEEPING_RULES = [
  { activity: 'pruneOAuthFlows', summary: 'Delete used and expired OAuth flows' },
  { activity: 'pruneRateLimitBlocks', summary: 'Delete ended Zendesk rate-limit blocks' },
  { activity: 'pruneSyncRuns', summary: 'Delete sync runs beyond the retention' },
  { activity: 'purgeDisconnectedData', summary: 'Purge the synced data of integrations disconnected long ago' },
  { activity: 'scrubDeletedUsers', summary: 'Scrub names and emails of users deleted in Zendesk' },
  { activity: 'pruneTicketEvents', summary: 'Delete ticket events beyond the activity retention' },
] as const satisfies ReadonlyArray<{ activity: keyof HousekeepingActivities; summary: string }>;

type HousekeepingRule = (typeof HOUSEKEEPING_RULES)[number]['activity'];

export interface HousekeepingResult {
  /** Rows deleted or scrubbed, by rule (absent: the rule failed). */
  changed: Partial<Record<HousekeepingRule, number>>;
  failed: HousekeepingRule[];
}

const acts = proxyActivities<HousekeepingActivities>({
  // A rule over a large database takes minutes; batches heartbeat, so a lost worker shows within a minute.
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 8 },
});

export async function housekeeping(): Promise<HousekeepingResult> {
  const result: HousekeepingResult = { changed: {}, failed: [] };
  for (const [index, rule] of HOUSEKEEPING_RULES.entries()) {
    setCurrentDetails(`Step ${index + 1} of ${HOUSEKEEPING_RULES.length}: ${rule.summary}`);
    try {
      result.changed[rule.activity] = await acts[rule.activity].executeWithOptions({ summary: rule.summary }, []);
    } catch (err) {
      if (isCancellation(err)) throw err;
      const cause = err instanceof ActivityFailure ? err.cause : err;
      log.warn('housekeeping rule failed; going on with the others', { rule: rule.activity, error: (cause as Error | undefined)?.message });
      result.failed.push(rule.activity);
    }
  }
  setCurrentDetails(result.failed.length ? `Done, except: ${result.failed.join(', ')}` : 'Done');
  if (result.failed.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `Housekeeping rules failed: ${result.failed.join(', ')} (the next run tries again)`,
      'HousekeepingIncomplete',
      result,
    );
  }
  return result;
}
