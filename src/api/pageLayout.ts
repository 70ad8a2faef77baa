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
  'button:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}a{color:#1f4fd1}' +
  // The utilization view (body.wide): tables of figures and users, the filter form, the chart's legend.
  'body.wide{max-width:72rem;margin:2rem auto}table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0}' +
  'th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #d1d5db}thead th{background:#f3f4f6}.num{text-align:right}' +
  '.filters{display:flex;flex-wrap:wrap;gap:0 1rem;align-items:flex-end}.filters label{margin-top:.5rem}' +
  'select,input[type=date],input[type=number],input[type=search]{font:inherit;padding:.3rem;border:1px solid #6b7280;border-radius:.25rem;display:block}' +
  'select:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}.swatch{display:inline-block;width:.9rem;height:.9rem;margin-right:.4rem;vertical-align:middle}' +
  '.c-active{background:#0b7a3e}.c-inactive{background:#b45309}.c-suspended{background:#b42318}.c-free{background:#6b7280}.chart{display:block;width:100%;height:2rem}.trend-chart{display:block;width:100%;height:6rem}' +
  '.scroll{overflow-x:auto}.scroll:focus-visible{outline:3px solid #f59e0b}td time{white-space:nowrap}';

/** `'sha256-…'` of the stylesheet, for a page's `style-src`. */
export const PAGE_STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A whole page: `head` and `body` are HTML already escaped by the caller; `bodyClass` a variant of the look (`wide`). */
export function pageDocument(title: string, body: string, head = '', bodyClass?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>${head}
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${STYLE}</style></head>
<body${bodyClass ? ` class="${bodyClass}"` : ''}>${body}</body></html>`;
}
