import { createHash } from 'node:crypto';

/**
 * The look every HTML page of the API shares (the OAuth callback page, the hosted Connect page): one
 * stylesheet, the same bytes on every page (variants are classes), so the Content-Security-Policy allows
 * exactly it by hash (PAGE_STYLE_HASH) instead of 'unsafe-inline'. Colours meet WCAG AA contrast on white.
 */
const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2933;line-height:1.5}' +
  'h1{font-size:1.5rem;color:#1f2933}h1.ok{color:#0b7a3e}h1.failed{color:#b42318}h2{font-size:1.1rem}' +
  '.tile{display:inline-block;padding:.25rem .75rem;border-radius:.5rem;background:#03363d;color:#fff;font-weight:600}' +
  'label{display:block;font-weight:600;margin-top:1rem}.hint{margin:.25rem 0;color:#4b5563}' +
  'input[type=text]{font:inherit;width:100%;box-sizing:border-box;padding:.5rem;border:1px solid #6b7280;border-radius:.25rem}' +
  'input[aria-invalid=true]{border-color:#b42318}.error{color:#b42318;font-weight:600}' +
  'button{font:inherit;margin-top:1rem;padding:.5rem 1.25rem;border:0;border-radius:.25rem;background:#1f4fd1;color:#fff;cursor:pointer}' +
  'button:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}a{color:#1f4fd1}';

/** `'sha256-…'` of the stylesheet, for a page's `style-src`. */
export const PAGE_STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A whole page: `head` and `body` are HTML already escaped by the caller. */
export function pageDocument(title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>${head}
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${STYLE}</style></head>
<body>${body}</body></html>`;
}
