import { createHash } from 'node:crypto';

/** The small HTML page the admin's browser lands on after Zendesk's consent screen. */
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * The page's one stylesheet, the same bytes on every page (the variant is a class), so the Content-Security-
 * Policy can allow exactly it by hash (CALLBACK_PAGE_STYLE_HASH) instead of 'unsafe-inline'. The page has no
 * script at all: the "still connecting" variant reloads itself with a meta refresh.
 */
const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2933}' +
  'h1{font-size:1.5rem;color:#1f2933}h1.ok{color:#0b7a3e}h1.failed{color:#b42318}';

/** `'sha256-…'` of STYLE, for the page's `style-src`. */
export const CALLBACK_PAGE_STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

export interface CallbackPageOptions {
  /** The page reloads itself after this many seconds (the outcome is not known yet). */
  reloadAfterSeconds?: number;
}

export function callbackPage(title: string, message: string, ok: boolean, options: CallbackPageOptions = {}): string {
  const reload = options.reloadAfterSeconds;
  // A meta refresh reloads the same URL (same state and code): the callback re-attaches to the same update.
  const refresh = reload === undefined ? '' : `\n<meta http-equiv="refresh" content="${Math.max(1, Math.round(reload))}">`;
  const closing = reload === undefined ? 'You can close this window.' : 'This page reloads itself; please keep it open.';
  const variant = ok ? 'ok' : reload === undefined ? 'failed' : 'pending';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>${refresh}
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${STYLE}</style></head>
<body><h1 class="${variant}">${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p>${closing}</p></body></html>`;
}
