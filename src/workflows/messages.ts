import { defineQuery, defineUpdate } from '@temporalio/workflow';

/**
 * The one definition of each message, used by the workflows and by the API alike.
 * None of them ever carries a token, code, secret or verifier.
 */

/** How a connect flow ended, as the OAuth callback shows it to the browser. */
export interface ConnectOutcome {
  status: 'connected' | 'needs_reauth' | 'consent_denied' | 'expired' | 'failed';
  /** A sentence a person can act on; null when connected. */
  message: string | null;
}

/** Sent by the OAuth callback once it has verified and spent the state. The code itself stays in the database. */
export interface ConsentDecision {
  flowId: string;
  outcome: 'approved' | 'denied';
}

export const submitConsentUpdate = defineUpdate<ConnectOutcome, [ConsentDecision]>('submitConsent');

export interface ConnectProgress {
  step: 'awaiting_consent' | 'exchanging_code' | 'verifying_admin' | 'finishing' | 'done';
  outcome: ConnectOutcome | null;
}

export const connectProgressQuery = defineQuery<ConnectProgress>('connectProgress');

export interface StreamProgress {
  pages: number;
  records: number;
  done: boolean;
}

export interface SyncProgress {
  step: 'starting' | 'syncing' | 'succeeded' | 'failed' | 'skipped';
  users: StreamProgress;
  ticketEvents: StreamProgress;
  /** Entitlements of light agents and contributors, read after the seat holders (absent in older runs). */
  entitlements?: StreamProgress;
  /** The listing of agents and admins (absent in runs begun before seat holders came first). */
  seatHolders?: StreamProgress;
  /** The integration does not sync end users (its settings), so `users` is not fetched. */
  endUsersSkipped?: boolean;
}

export const syncProgressQuery = defineQuery<SyncProgress>('syncProgress');

/** Who asked for a reclamation step (the tenant key and the platform's optional `Actor` header). */
export interface ReclaimRequester {
  apiKeyId: string | null;
  actor: string | null;
}

export interface ApproveReclamation extends ReclaimRequester {
  /** A subset of the planned users; undefined approves them all. */
  userIds?: number[];
}

export interface UndoReclamation extends ReclaimRequester {
  /** Some downgraded users; undefined undoes them all. */
  userIds?: number[];
}

export interface KeepReclamationUser extends ReclaimRequester {
  userId: number;
}

export interface ReclaimProgress {
  status: 'awaiting_approval' | 'rejected' | 'expired' | 'notice' | 'executing' | 'completed' | 'undoing';
  counts: { planned: number; downgraded: number; skipped: number; failed: number; restored: number; undoFailed: number; kept?: number };
  /** During the notice period: when it ends (epoch ms). */
  noticeUntil?: number;
}

/** Approve a plan: validated (only while it awaits approval, only planned users), answers once recorded. */
export const approveReclamationUpdate = defineUpdate<ReclaimProgress, [ApproveReclamation]>('approveReclamation');
export const rejectReclamationUpdate = defineUpdate<ReclaimProgress, [ReclaimRequester]>('rejectReclamation');
/** Undo downgraded users within the undo window; answers with each user's outcome. */
export const undoReclamationUpdate = defineUpdate<{ restored: number[]; failed: number[]; skipped: number[] }, [UndoReclamation]>('undoReclamation');
/** Take one user out of a reclamation in its notice period (validated: only then, only a user still to be changed). */
export const keepReclamationUserUpdate = defineUpdate<ReclaimProgress, [KeepReclamationUser]>('keepReclamationUser');
export const reclaimProgressQuery = defineQuery<ReclaimProgress>('reclaimProgress');
