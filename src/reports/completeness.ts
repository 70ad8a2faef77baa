import type { z } from 'zod';
import type { Db } from '../db/database';
import { integrationStreams } from '../db/repositories/integrationStreams';
import type { Integration } from '../db/tables';
import type { SyncStreams } from '../api/schemas';
import { streamsView } from './streamsView';

/**
 * How complete a report's data is (issue 16): each stream's state, as on the integration, and the days of
 * ticket activity complete up to now, which decide what a user's `usage` rests on.
 */
export async function reportCompleteness(db: Db, integration: Integration): Promise<{ streams: z.infer<typeof SyncStreams>; activityDays: number }> {
  const streams = streamsView(integration, (await integrationStreams(db, [integration.id])).get(integration.id));
  return { streams, activityDays: streams.ticketEvents.coveredDays };
}
