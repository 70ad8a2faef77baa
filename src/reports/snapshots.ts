import type { z } from 'zod';
import type { Utilization } from '../api/reportSchemas';
import type { Db } from '../db/database';
import { findIntegration } from '../db/repositories/integrations';
import { insertSnapshot, latestSnapshot } from '../db/repositories/utilizationSnapshots';
import type { Integration, SnapshotKind } from '../db/tables';
import { reportCompleteness } from './completeness';
import { usageBasis, type ActivityWindow } from './model';
import { utilizationReport } from './utilization';

export type UtilizationBody = z.infer<typeof Utilization>;

/**
 * The `/utilization` body of an integration at `window`: the figures (one grouped statement in PostgreSQL,
 * utilization.ts), how complete their data is, and what `usage` rests on.
 */
export async function utilizationBody(db: Db, integration: Integration, window: ActivityWindow): Promise<UtilizationBody> {
  const [report, completeness] = await Promise.all([utilizationReport(db, integration.id, window), reportCompleteness(db, integration)]);
  return { ...report, completeness: completeness.streams, usageBasis: usageBasis(completeness.activityDays, window.inactiveDays) };
}

/**
 * Stores the report for the default `inactiveDays` as the worker sees it now (issue 16: when a sync's seat part
 * is done and when it succeeds), so the API serves it with one read, `asOf` = the time it was taken. Once per
 * run and kind. Returns whether it stored one (false: already stored, or the integration is gone).
 */
export async function takeUtilizationSnapshot(
  db: Db,
  input: { integrationId: string; syncRunId: string; kind: SnapshotKind; inactiveDays: number },
): Promise<boolean> {
  const integration = await findIntegration(db, input.integrationId);
  if (!integration) return false;
  const takenAt = new Date();
  const body = await utilizationBody(db, integration, { asOf: takenAt, inactiveDays: input.inactiveDays });
  return insertSnapshot(db, {
    integrationId: integration.id,
    syncRunId: input.syncRunId,
    kind: input.kind,
    takenAt,
    inactiveDays: input.inactiveDays,
    report: body,
  });
}

/** The stored report for `inactiveDays`, if the worker took one (the API's default `inactiveDays` only). */
export async function snapshotBody(db: Db, integrationId: string, inactiveDays: number): Promise<{ body: UtilizationBody; takenAt: Date } | undefined> {
  const snapshot = await latestSnapshot(db, integrationId, inactiveDays);
  return snapshot ? { body: snapshot.report as UtilizationBody, takenAt: snapshot.taken_at } : undefined;
}
