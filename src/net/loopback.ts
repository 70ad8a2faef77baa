import net from 'node:net';

/**
 * Whether a URL's host is this machine: `localhost` and its subdomains (RFC 6761 reserves them for loopback),
 * 127.0.0.0/8 and ::1. Only there may PUBLIC_URL and ZENDESK_BASE_URL be plain http: on any other host the
 * OAuth code, the tokens and the API keys would cross a network in the clear.
 */
export function isLoopbackHost(hostname: string): boolean {
  // WHATWG URLs give IPv6 hosts in brackets and normalise IPv4 spellings (0x7f.1 → 127.0.0.1).
  const host = hostname
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  if (net.isIPv6(host)) return host === '::1';
  return false;
}

/**
 * null when the URL may be used; otherwise why not (http on a host that is not loopback, or another scheme).
 * `shown`: what to quote in the message (default the URL's origin; never its path or credentials).
 */
export function httpsUnlessLoopback(url: URL, shown = `${url.protocol}//${url.host}`): string | null {
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:') {
    return isLoopbackHost(url.hostname) ? null : `must use https (plain http is allowed only for loopback hosts: localhost, 127.0.0.0/8, ::1); got ${shown}`;
  }
  return `must be an https URL (got ${url.protocol.replace(/:$/, '')}:)`;
}
