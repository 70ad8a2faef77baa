import type { z } from 'zod';
import {
  KNOWN_ROLE_TYPE_MAX,
  KNOWN_ROLES,
  KNOWN_TICKET_RESTRICTIONS,
  ticketEventSchema,
  USER_RECORD_FIELDS,
  zendeskUserSchema,
  type TicketEvent,
  type ZendeskUserRecord,
} from './schemas';

/**
 * Reads the records of a page one by one, so that a broken record never costs its page. A record that
 * cannot be used at all (not an object, no usable id, a required field missing) is quarantined: skipped
 * and reported by position and id only (never its content: it may hold personal data). Records that are
 * used but carry surprises (a wrong-typed optional field, an enum value Zendesk did not document) are
 * reported as anomalies, for a metric.
 */

export interface SkippedRecord {
  /** Index of the entry in its page. */
  position: number;
  /** The entry's `id` when it had a number or string there (truncated), else null. */
  id: string | null;
  /** What made it unusable: the failing fields and zod's issue codes, no values. */
  reason: string;
}

export interface RecordAnomaly {
  field: string;
  kind: 'wrong_type' | 'unknown_value';
}

export interface ReadRecords<T> {
  records: T[];
  skipped: SkippedRecord[];
  anomalies: RecordAnomaly[];
}

function idOf(entry: unknown): string | null {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return null;
  const id = (entry as { id?: unknown }).id;
  return typeof id === 'number' || typeof id === 'string' ? String(id).slice(0, 40) : null;
}

function readEach<S extends z.ZodType>(
  schema: S,
  entries: unknown[],
  anomaliesOf: (raw: Record<string, unknown>, parsed: z.output<S>) => RecordAnomaly[],
): ReadRecords<z.output<S>> {
  const out: ReadRecords<z.output<S>> = { records: [], skipped: [], anomalies: [] };
  entries.forEach((entry, position) => {
    const result = schema.safeParse(entry);
    if (!result.success) {
      const reason = result.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(record)'}: ${i.code}`)
        .join('; ');
      out.skipped.push({ position, id: idOf(entry), reason });
      return;
    }
    out.records.push(result.data);
    out.anomalies.push(...anomaliesOf(entry as Record<string, unknown>, result.data));
  });
  return out;
}

/** Wrong-typed fields (present and not null, but read as null) and undocumented enum values. */
function userAnomalies(raw: Record<string, unknown>, user: ZendeskUserRecord): RecordAnomaly[] {
  const found: RecordAnomaly[] = [];
  for (const field of USER_RECORD_FIELDS) {
    if (raw[field] !== undefined && raw[field] !== null && user[field] === null) found.push({ field, kind: 'wrong_type' });
  }
  if (user.role !== null && !(KNOWN_ROLES as readonly string[]).includes(user.role)) found.push({ field: 'role', kind: 'unknown_value' });
  if (user.role_type !== null && (user.role_type < 0 || user.role_type > KNOWN_ROLE_TYPE_MAX)) found.push({ field: 'role_type', kind: 'unknown_value' });
  if (user.ticket_restriction !== null && !(KNOWN_TICKET_RESTRICTIONS as readonly string[]).includes(user.ticket_restriction)) {
    found.push({ field: 'ticket_restriction', kind: 'unknown_value' });
  }
  return found;
}

export function readUsers(entries: unknown[]): ReadRecords<ZendeskUserRecord> {
  return readEach(zendeskUserSchema, entries, userAnomalies);
}

export function readTicketEvents(entries: unknown[]): ReadRecords<TicketEvent> {
  return readEach(ticketEventSchema, entries, () => []);
}
