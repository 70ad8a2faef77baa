// What tolerant-reader tests turn on: raw and broken records, refused export positions, stuck pagination.

import type { ErrorDialect } from './exportQuirks';
import type { BrokenRecordKind, ExportStream } from './types';
import { WorkspaceEntitlements } from './workspaceEntitlements';

export abstract class WorkspaceQuirks extends WorkspaceEntitlements {
  /**
   * Sets fields of a user's served JSON to exact values, even ones no model produces (`role: 'superhero'`,
   * `role_type: 9`, `ticket_restriction: 'team'`, `updated_at: 'yesterday'`). Only the JSON changes: the
   * sandbox still treats the user by its model (auth, role filters). Unless `touch: false`, the user moves
   * into the incremental export like an update (now). Returns the served JSON.
   */
  setRawUserFields(id: number, fields: Record<string, unknown>, opts: { touch?: boolean } = {}): Record<string, unknown> {
    const i = this.requireUser(id);
    this.rawEdits.set(id, fields);
    if (opts.touch ?? true) this.userStore.update(i, {}, this.now());
    return this.rawUser(id)!;
  }

  /** Leaves fields out of a user's served JSON (`updated_at`, `active`, `suspended`, `role`, even `id`); like setRawUserFields. */
  removeUserFields(id: number, fields: string[], opts: { touch?: boolean } = {}): Record<string, unknown> {
    const i = this.requireUser(id);
    this.rawEdits.remove(id, fields);
    if (opts.touch ?? true) this.userStore.update(i, {}, this.now());
    return this.rawUser(id)!;
  }

  /** Drops raw edits (of one user, or all); the user serves its model again (its export position stays). */
  clearRawUserEdits(id?: number): void {
    this.rawEdits.clear(id);
  }

  /** The user's JSON exactly as served, raw edits included. */
  rawUser(id: number): Record<string, unknown> | undefined {
    return this.userJson(id) as Record<string, unknown> | undefined;
  }

  /**
   * Injects broken entries into an export, right after a real record (`after`: a user id for 'users', an
   * event id for 'ticketEvents'; default: the second record of the export), so they sit among good records
   * of the same page every time that page is read. See BrokenRecordKind for each kind. Returns the anchor.
   */
  injectBrokenRecords(stream: ExportStream, kinds: BrokenRecordKind[], opts: { after?: number } = {}): { after: number } {
    let after = opts.after;
    if (after === undefined) {
      if (stream === 'users') {
        if (this.userStore.size === 0) throw new Error('no users to anchor broken records to');
        after = this.userStore.idAt(this.userStore.byUpdatedAt(Math.min(1, this.userStore.size - 1)));
      } else {
        if (this.eventStore.size === 0) throw new Error('no ticket events to anchor broken records to');
        after = this.eventStore.idAt(Math.min(1, this.eventStore.size - 1));
      }
    } else if (stream === 'users') {
      this.requireUser(after);
    }
    this.brokenRecords.add(stream, after, kinds);
    return { after };
  }

  clearBrokenRecords(stream?: ExportStream): void {
    this.brokenRecords.clear(stream);
  }

  /**
   * Every users-export cursor issued so far is refused from now on (default 400 InvalidCursor in Zendesk's
   * `errors[]` dialect; `dialect: 'InvalidValue'` for `{error, description}`); a fresh export from a
   * start_time works, and the cursors it issues are accepted.
   */
  refuseExportCursors(opts: { status?: 400 | 422; dialect?: ErrorDialect } = {}): void {
    this.exportQuirks.refuseIssuedCursors(opts);
  }

  /** Accepts every cursor again. */
  acceptExportCursors(): void {
    this.exportQuirks.minCursorEpoch = 0;
  }

  /**
   * Ticket-events requests are refused by start_time: 'tooOld' (default) refuses start_time < boundary,
   * 'tooRecent' refuses start_time >= boundary (epoch seconds). Default 422 `{error: "InvalidValue", …}`.
   */
  refuseTicketEventStartTimes(
    boundary: number,
    opts: { reason?: 'tooOld' | 'tooRecent'; status?: 400 | 422; dialect?: ErrorDialect; exact?: boolean; times?: number } = {},
  ): void {
    this.exportQuirks.startTimeRefusal = {
      boundary,
      exact: opts.exact,
      times: opts.times,
      reason: opts.reason ?? 'tooOld',
      status: opts.status ?? 422,
      dialect: opts.dialect ?? 'InvalidValue',
    };
  }

  acceptTicketEventStartTimes(): void {
    this.exportQuirks.startTimeRefusal = null;
  }

  /** The users export answers a cursor with that same cursor again and end_of_stream false (the first page still advances). */
  stallUsersExportCursor(on = true): void {
    this.exportQuirks.stallUsersCursor = on;
  }

  /** Ticket-events pages answer end_time = start_time - seconds with end_of_stream false; null turns it off. */
  rewindTicketEventsEndTime(seconds: number | null = 3600): void {
    this.exportQuirks.eventsEndTimeRewindSeconds = seconds;
  }

  /** Turns off refusals and stuck pagination (cursor epochs stay, so old cursors work again). */
  resetExportQuirks(): void {
    this.exportQuirks.reset();
  }
}
