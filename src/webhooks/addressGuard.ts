import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { lookup as dnsLookupAll } from 'node:dns/promises';
import net from 'node:net';

/**
 * Where a webhook may be sent (issue 18, "URL rules"): `https` only, to public addresses only — never to
 * loopback, private, link-local (the cloud metadata service, 169.254.169.254), carrier-grade NAT, multicast
 * or reserved ranges, as an IP literal or as a name that resolves there — unless its host is one of
 * WEBHOOK_ALLOW_HOSTS (for `npm run dev` and the tests), which also admits `http`. Checked when an endpoint
 * is created or changed, and again on every connection: the HTTP client resolves the name through
 * `guardedLookup`, which refuses a forbidden address, so a name re-pointed after the check (DNS
 * rebinding) is caught on the very connection it would be used for.
 */

/** Node's own BlockList: the ranges no webhook may reach. */
const FORBIDDEN = new net.BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['::ffff:0:0', 96], // IPv4-mapped (isForbiddenAddress refuses them before the list is asked)
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv6');
}

export function isForbiddenAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return true; // a mapped IPv4 address is refused whatever it maps to: nobody needs one
  const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
  return family === undefined || FORBIDDEN.check(address, family);
}

export class WebhookUrlError extends Error {
  override name = 'WebhookUrlError';
}

/** The host as it is compared with WEBHOOK_ALLOW_HOSTS: lower case, IPv6 without brackets. */
const hostOf = (url: URL) => url.hostname.toLowerCase().replace(/^\[|\]$/g, '');

/** The URL's syntax and, for an IP literal, its address. Throws WebhookUrlError naming what is wrong. */
export function checkWebhookUrlSyntax(text: string, allowHosts: ReadonlySet<string>): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WebhookUrlError('is not an absolute URL');
  }
  const allowed = allowHosts.has(hostOf(url));
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowed)) throw new WebhookUrlError('must use https');
  if (url.username || url.password) throw new WebhookUrlError('must not carry credentials');
  if (url.hash) throw new WebhookUrlError('must not have a fragment');
  if (!allowed && net.isIP(hostOf(url)) && isForbiddenAddress(hostOf(url))) {
    throw new WebhookUrlError(`points at ${hostOf(url)}, a loopback, private, link-local or reserved address`);
  }
  return url;
}

/** The URL's rules, its name resolved: every address it resolves to must be public (unless its host is allowed). */
export async function checkWebhookUrl(text: string, allowHosts: ReadonlySet<string>): Promise<URL> {
  const url = checkWebhookUrlSyntax(text, allowHosts);
  const host = hostOf(url);
  if (allowHosts.has(host) || net.isIP(host)) return url;
  let addresses: LookupAddress[];
  try {
    addresses = await dnsLookupAll(host, { all: true });
  } catch {
    throw new WebhookUrlError(`names a host that does not resolve (${host})`);
  }
  const bad = addresses.find((a) => isForbiddenAddress(a.address));
  if (bad) throw new WebhookUrlError(`resolves to ${bad.address}, a loopback, private, link-local or reserved address`);
  return url;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http(s).request that refuses forbidden addresses (unless the host is allowed). Node calls
 * it with `all: true` when it tries several addresses (autoSelectFamily), and without otherwise.
 */
export function guardedLookup(allowHosts: ReadonlySet<string>) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { all: true, family: options.family === 'IPv6' ? 6 : options.family === 'IPv4' ? 4 : (options.family ?? 0) }, (err, addresses) => {
      if (err) return callback(err, []);
      if (!allowHosts.has(hostname.toLowerCase())) {
        const bad = addresses.find((a) => isForbiddenAddress(a.address));
        if (bad) {
          const refusal: NodeJS.ErrnoException = new WebhookUrlError(
            `${hostname} resolves to ${bad.address}, a loopback, private, link-local or reserved address`,
          );
          refusal.code = 'EWEBHOOKADDRESS';
          return callback(refusal, []);
        }
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}
