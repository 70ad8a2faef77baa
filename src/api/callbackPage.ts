import { escapeHtml, PAGE_STYLE_HASH, pageDocument } from './pageLayout';

/**
 * The small HTML page the admin's browser lands on after Zendesk's consent screen, in the look of every page
 * (src/api/pageLayout.ts). It has no script, except for a consent a Connect session started: then it loads
 * the served opener script (src/api/connectAssets.ts), which tells the opener window the outcome, from data-
 * attributes (no inline script). The "still connecting" variant reloads itself with a meta refresh.
 */

/** `'sha256-…'` of the page's stylesheet, for its `style-src`. */
export const CALLBACK_PAGE_STYLE_HASH = PAGE_STYLE_HASH;

/** What a page of a consent a Connect session started adds: a way back, and the message to the opener. */
export interface SessionOutcome {
  /** The tenant's name as the Connect page showed it. */
  tenantName: string;
  returnUrl: string | null;
  /** Where the opener is told; null: nobody is. */
  allowedOrigin: string | null;
  status: string;
  integrationId: string;
  /** The served opener script's path. */
  scriptPath: string;
}

export interface CallbackPageOptions {
  /** The page reloads itself after this many seconds (the outcome is not known yet). */
  reloadAfterSeconds?: number;
  session?: SessionOutcome;
}

function sessionPart(s: SessionOutcome): string {
  const back = s.returnUrl ? `<p><a href="${escapeHtml(s.returnUrl)}">Return to ${escapeHtml(s.tenantName)}</a></p>` : '';
  const tell = s.allowedOrigin
    ? `<div id="outcome" hidden data-status="${escapeHtml(s.status)}" data-integration-id="${escapeHtml(s.integrationId)}" data-origin="${escapeHtml(s.allowedOrigin)}"></div>` +
      `<script src="${escapeHtml(s.scriptPath)}"></script>`
    : '';
  return back + tell;
}

export function callbackPage(title: string, message: string, ok: boolean, options: CallbackPageOptions = {}): string {
  const reload = options.reloadAfterSeconds;
  // A meta refresh reloads the same URL (same state and code): the callback re-attaches to the same update.
  const refresh = reload === undefined ? '' : `\n<meta http-equiv="refresh" content="${Math.max(1, Math.round(reload))}">`;
  const closing = reload === undefined ? 'You can close this window.' : 'This page reloads itself; please keep it open.';
  const variant = ok ? 'ok' : reload === undefined ? 'failed' : 'pending';
  const session = options.session && reload === undefined ? sessionPart(options.session) : '';
  return pageDocument(title, `<main><h1 class="${variant}">${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${session}<p>${closing}</p></main>`, refresh);
}
