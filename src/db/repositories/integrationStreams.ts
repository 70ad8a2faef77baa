import { sql } from 'kysely';
import type { Db } from '../database';
import type { IntegrationStreamsTable, SyncStream } from '../tables';

/**
 * How far each stream of an integration got: when it was last complete, and what it knows of its progress
 * (for the completeness the reports state, and the estimate of when a stream will be done).
 */
export interface StreamProgressRecord {
  /** When the current pass of the stream began (epoch ms). */
  startedAtMs?: number;
  /** Ticket events: the oldest instant covered without gaps up to now (epoch s), and the oldest to cover. */
  coveredSince?: number;
  target?: number;
  /** Users: records done in this pass, and Zendesk's count when known. */
  done?: number;
  total?: number;
}

export async function setStreamProgress(db: Db, integrationId: string, stream: SyncStream, progress: StreamProgressRecord, complete = false): Promise<void> {
  const values = { integration_id: integrationId, stream, progress: JSON.stringify(progress), completed_at: complete ? sql<Date>`now()` : null };
  await db
    .insertInto('integration_streams')
    .values(values)
    .onConflict((oc) =>
      oc.columns(['integration_id', 'stream']).doUpdateSet({
        progress: values.progress,
        updated_at: sql<Date>`now()`,
        ...(complete ? { completed_at: sql<Date>`now()` } : {}),
      }),
    )
    .execute();
}

export type IntegrationStream = Pick<IntegrationStreamsTable, 'stream'> & { completedAt: Date | null; progress: StreamProgressRecord; updatedAt: Date };

export async function integrationStreams(db: Db, integrationIds: string[]): Promise<Map<string, IntegrationStream[]>> {
  const out = new Map<string, IntegrationStream[]>();
  if (integrationIds.length === 0) return out;
  const rows = await db.selectFrom('integration_streams').selectAll().where('integration_id', 'in', integrationIds).execute();
  for (const r of rows) {
    const list = out.get(r.integration_id) ?? [];
    list.push({ stream: r.stream, completedAt: r.completed_at, progress: r.progress, updatedAt: r.updated_at });
    out.set(r.integration_id, list);
  }
  return out;
}

export async function streamProgress(db: Db, integrationId: string, stream: SyncStream): Promise<StreamProgressRecord | undefined> {
  const row = await db
    .selectFrom('integration_streams')
    .select('progress')
    .where('integration_id', '=', integrationId)
    .where('stream', '=', stream)
    .executeTakeFirst();
  return row?.progress;
}
