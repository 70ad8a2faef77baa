import type { RequestHandler, Response } from 'express';
import helmet from 'helmet';

/**
 * The headers every HTML page of the API is sent with. Built with `helmet`: it knows the headers and their
 * legacy companions (X-Frame-Options next to frame-ancestors, X-XSS-Protection: 0 to switch off the broken
 * filter of old browsers), serialises CSP directives correctly, and is kept up to date as browsers change —
 * rather than a list of strings of our own that nobody reviews. We choose each policy explicitly instead of
 * taking helmet's defaults:
 *
 * - Content-Security-Policy: nothing may load (`default-src 'none'`) but the page's own inline stylesheet,
 *   allowed by hash; no script (a page that needs one names its served file's source, never inline); no form
 *   posts (the Connect page's own post, and the redirect to Zendesk it leads to, are named), no `<base>`, no plugins. `frame-ancestors 'none'`
 *   (and X-Frame-Options: DENY) for pages that must never be framed (clickjacking the consent result).
 * - Cache-Control: no-store: the callback URL carries the authorization code and the page shows a tenant's
 *   workspace; no browser or proxy cache keeps either.
 * - Referrer-Policy: no-referrer: the page's URL (with the code and state) never leaves in a Referer header.
 * - X-Content-Type-Options: nosniff.
 * - No Cross-Origin-Opener-Policy: a later connect flow opens the consent in a popup and needs `postMessage` to
 *   its opener, which `same-origin` would cut off. Pages that must talk to an opener or be embedded get
 *   their own policy when they exist.
 * - Strict-Transport-Security only when the public URL is https (over http a browser ignores it anyway), for
 *   this host only: the API must not decide for the operator's other subdomains.
 */
export interface PagePolicy {
  /** `'sha256-…'` sources allowed in `style-src` (the page's inline `<style>`). */
  styleHashes: string[];
  /**
   * false: `frame-ancestors 'none'` and X-Frame-Options: DENY. true: `frame-ancestors` is the origins
   * `setFrameAncestors` named for the response (the utilization view: the tenant's registered origins), `'none'`
   * when it named none; no X-Frame-Options (it cannot name origins).
   */
  frameable: boolean;
  /** Whether the API's PUBLIC_URL is https (HSTS is sent only then). */
  https: boolean;
  /** `script-src` (default `'none'`): the Connect pages' served script (`'self'`), never inline. */
  scriptSources?: string[];
  /** `form-action` (default `'none'`): the Connect page posts to itself and is redirected to Zendesk's consent page. */
  formActions?: string[];
}

/**
 * The OpenAPI description of the headers `pageSecurityHeaders` sends, for a page's route definitions: one
 * list beside the code that sets them, so every page documents all of them. `csp` and `noStoreBecause` say
 * what this page's policy allows and why it must not be cached.
 */
export function pageHeadersDoc(page: { csp: string; noStoreBecause: string; referrer?: string }) {
  return {
    'Content-Security-Policy': { description: page.csp, schema: { type: 'string' } },
    'Cache-Control': { description: `\`no-store\`: ${page.noStoreBecause}`, schema: { type: 'string' } },
    'Referrer-Policy': { description: page.referrer ? `\`no-referrer\`: ${page.referrer}` : '`no-referrer`', schema: { type: 'string' } },
    'X-Content-Type-Options': { description: '`nosniff`', schema: { type: 'string' } },
  };
}

/** Where `setFrameAncestors` keeps the origins: `res.locals[FRAME_ANCESTORS]`. */
const FRAME_ANCESTORS = 'frameAncestors';

/** The origins that may frame this response of a frameable page (set before its headers are applied). */
export function setFrameAncestors(res: Response, origins: readonly string[]): void {
  res.locals[FRAME_ANCESTORS] = origins;
}

function frameAncestorsSource(res: Response): string {
  const origins = res.locals[FRAME_ANCESTORS] as readonly string[] | undefined;
  return origins?.length ? origins.join(' ') : "'none'";
}

export function pageSecurityHeaders(policy: PagePolicy): RequestHandler {
  const headers = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'none'"],
        'style-src': policy.styleHashes,
        'img-src': ["'none'"],
        'script-src': policy.scriptSources ?? ["'none'"],
        'base-uri': ["'none'"],
        'form-action': policy.formActions ?? ["'none'"],
        'object-src': ["'none'"],
        'frame-ancestors': policy.frameable ? [(_req, res) => frameAncestorsSource(res as Response)] : ["'none'"],
      },
    },
    crossOriginOpenerPolicy: false,
    crossOriginEmbedderPolicy: false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: policy.https ? { maxAge: 31_536_000, includeSubDomains: false } : false,
    xFrameOptions: policy.frameable ? false : { action: 'deny' },
    xContentTypeOptions: true,
  });
  return (req, res, next) => {
    res.set('Cache-Control', 'no-store');
    headers(req, res, next);
  };
}
