import type { z } from 'zod';
import type { IntegrationStream, StreamProgressRecord } from '../db/repositories/integrationStreams';
import type { Integration as IntegrationRow, SyncStream } from '../db/tables';
import type { SyncStreams } from '../api/schemas';

/**
 * How complete an integration's data is, stream by stream (integration_streams, written by the sync's
 * chunks), with an estimate of when a stream that was never complete will be: what is left of it at the
 * rate seen since its pass began.
 */

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function estimatedCompletion(progress: StreamProgressRecord, nowMs: number): Date | null {
  const { startedAtMs, done, total } = progress;
  if (startedAtMs === undefined || done === undefined || total === undefined || done <= 0) return null;
  const elapsed = nowMs - startedAtMs;
  if (elapsed <= 0) return null;
  const left = Math.max(0, total - done);
  return new Date(nowMs + (left * elapsed) / done);
}

function state(stream: IntegrationStream | undefined, nowMs: number) {
  const completedAt = stream?.completedAt ?? null;
  return {
    complete: completedAt !== null,
    completedAt: iso(completedAt),
    estimatedCompletionAt: completedAt === null && stream ? iso(estimatedCompletion(stream.progress, nowMs)) : null,
  };
}

export function streamsView(row: IntegrationRow, streams: IntegrationStream[] | undefined, nowMs = Date.now()): z.infer<typeof SyncStreams> {
  const of = (s: SyncStream) => streams?.find((x) => x.stream === s);
  const events = of('ticket_events');
  const since = events?.progress.coveredSince;
  return {
    seatHolders: state(of('seat_holders'), nowMs),
    endUsers: { ...state(of('end_users'), nowMs), enabled: row.sync_end_users },
    ticketEvents: {
      ...state(events, nowMs),
      coveredSince: since === undefined ? null : new Date(since * 1000).toISOString(),
      coveredDays: since === undefined ? 0 : Math.max(0, Math.floor((nowMs / 1000 - since) / 86_400)),
    },
  };
}
