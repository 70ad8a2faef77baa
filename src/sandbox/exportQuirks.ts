// Export behaviours tests switch on to check that a client cannot get stuck: saved positions Zendesk
// refuses (an export cursor it issued earlier, a ticket-events start_time) and pagination that does not
// move forward (a users cursor that comes back unchanged, a ticket-events end_time that goes backwards).

import { json, type Reply } from './http';

/** How refusals are worded: Zendesk's `errors[]` dialect (OAS) or the older `{error, description}` one. */
export type ErrorDialect = 'errors' | 'InvalidValue';

export interface CursorRefusal {
  status: 400 | 422;
  dialect: ErrorDialect;
}

export interface StartTimeRefusal {
  /** start_time values below this epoch second are refused ('tooOld'); or at/above it ('tooRecent'). */
  boundary: number;
  reason: 'tooOld' | 'tooRecent';
  status: 400 | 422;
  dialect: ErrorDialect;
}

export class ExportQuirks {
  /** Stamped into the export cursors issued now; cursors stamped below `minCursorEpoch` are refused. */
  cursorEpoch = 0;
  minCursorEpoch = 0;
  cursorRefusal: CursorRefusal = { status: 400, dialect: 'errors' };
  /** The users export answers every cursor with that same cursor again and end_of_stream false. */
  stallUsersCursor = false;
  startTimeRefusal: StartTimeRefusal | null = null;
  /** Each ticket-events page's end_time is this many seconds before its start_time (end_of_stream false). */
  eventsEndTimeRewindSeconds: number | null = null;

  refuseIssuedCursors(refusal: Partial<CursorRefusal>): void {
    this.cursorEpoch++;
    this.minCursorEpoch = this.cursorEpoch;
    this.cursorRefusal = { status: refusal.status ?? 400, dialect: refusal.dialect ?? 'errors' };
  }

  reset(): void {
    this.minCursorEpoch = 0;
    this.stallUsersCursor = false;
    this.startTimeRefusal = null;
    this.eventsEndTimeRewindSeconds = null;
  }

  startTimeRefused(startTime: number): Reply | null {
    const r = this.startTimeRefusal;
    if (!r) return null;
    const refused = r.reason === 'tooOld' ? startTime < r.boundary : startTime >= r.boundary;
    return refused ? startTimeError(r.reason, r.status, r.dialect) : null;
  }
}

/** A refused export cursor. `errors` dialect: the documented 400 of Zendesk's cursor exports (OAS). */
export function invalidCursor(status: 400 | 422 = 400, dialect: ErrorDialect = 'errors'): Reply {
  if (dialect === 'InvalidValue') return json(status, { error: 'InvalidValue', description: 'cursor is invalid or expired' });
  return json(status, { errors: [{ code: 'InvalidCursor', status: String(status), title: 'cursor is invalid or expired' }] });
}

/**
 * A refused start_time. "Too recent" follows what clients have recorded (422 InvalidValue, "Too recent
 * start_time. Use a start_time older than …"); "too old" has no public recording and is worded alike.
 */
export function startTimeError(reason: 'tooOld' | 'tooRecent', status: 400 | 422, dialect: ErrorDialect, recentWindow = 'older than 1 minute'): Reply {
  if (dialect === 'errors') {
    return json(status, {
      errors: [
        reason === 'tooRecent'
          ? { code: 'StartTimeTooRecent', status: String(status), title: 'start_time must be more than 60 seconds ago' }
          : { code: 'StartTimeTooOld', status: String(status), title: 'start_time is too old' },
      ],
    });
  }
  return json(status, {
    error: 'InvalidValue',
    description: reason === 'tooRecent' ? `Too recent start_time. Use a start_time ${recentWindow}` : 'Too old start_time. Use a more recent start_time',
  });
}
