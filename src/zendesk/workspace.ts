/**
 * Workspace (subdomain) input and base-URL building.
 *
 * A workspace is a Zendesk subdomain: one DNS label, `^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`. People paste
 * `acme`, `acme.zendesk.com`, `https://acme.zendesk.com/agent/tickets/1`…; all of them mean `acme`.
 * Everything that could point a request at another host (other domains, IPs, ports, user-info, other
 * schemes, punycode) is rejected with a reason a person can act on.
 */

const SUBDOMAIN_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const ZENDESK_SUFFIX = '.zendesk.com';
const MAX_INPUT_LENGTH = 2048;

export type WorkspaceParseResult = { ok: true; subdomain: string } | { ok: false; reason: string };

function isValidSubdomain(subdomain: string): boolean {
  return SUBDOMAIN_PATTERN.test(subdomain);
}

function reject(reason: string): WorkspaceParseResult {
  return { ok: false, reason };
}

/** Why a candidate label is not a subdomain, or undefined when it is one. */
function labelProblem(label: string): string | undefined {
  if (label.length === 0) return 'The Zendesk subdomain is empty.';
  if (label.length > 63) return 'A Zendesk subdomain is at most 63 characters long.';
  if (label.startsWith('xn--')) return 'Internationalized (punycode) subdomains are not Zendesk subdomains.';
  if (label.startsWith('-') || label.endsWith('-')) return 'A Zendesk subdomain cannot start or end with a hyphen.';
  if (label.includes('.')) return 'A Zendesk subdomain is a single name without dots, such as "acme" in acme.zendesk.com.';
  if (!SUBDOMAIN_PATTERN.test(label)) return 'A Zendesk subdomain may contain only letters, digits and hyphens.';
  return undefined;
}

/**
 * Parses what a person typed as their Zendesk workspace. Never throws.
 *
 * Accepted: `acme`, `ACME`, `acme.zendesk.com`, `https://acme.zendesk.com`, `https://acme.zendesk.com/any/path`
 * (also `acme.zendesk.com/agent/...` without a scheme). Surrounding spaces are ignored.
 */
export function parseWorkspaceInput(input: string): WorkspaceParseResult {
  if (typeof input !== 'string') return reject('Enter your Zendesk subdomain, for example "acme" or "acme.zendesk.com".');
  if (input.length > MAX_INPUT_LENGTH) return reject('The workspace is too long to be a Zendesk address.');
  // Control characters (tabs and newlines included) are never part of a pasted address.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(input)) return reject('The workspace contains control characters.');
  const trimmed = input.trim();
  if (trimmed.length === 0) return reject('Enter your Zendesk subdomain, for example "acme" or "acme.zendesk.com".');
  // eslint-disable-next-line no-control-regex
  if (/[^\u0000-\u007f]/.test(trimmed)) return reject('The workspace contains non-ASCII characters; Zendesk subdomains use only letters, digits and hyphens.');
  if (/\s/.test(trimmed)) return reject('The workspace contains spaces.');

  let rest = trimmed.toLowerCase();
  let hadScheme = false;
  const match = /^([a-z][a-z0-9+.-]*):(.*)$/.exec(rest);
  const scheme = match ? { name: match[1]!, rest: match[2]! } : undefined;
  if (scheme && (scheme.rest.startsWith('//') || !/^\d+(?:[/?#]|$)/.test(scheme.rest))) {
    // Something like `http://…`, `ftp:…` or `javascript:…` (but not `host:443`, which is a port, handled below).
    if (scheme.name !== 'https') return reject(`Only https://<subdomain>.zendesk.com addresses are accepted (got a "${scheme.name}:" address).`);
    if (!scheme.rest.startsWith('//')) return reject('The address is not a valid https:// URL.');
    rest = scheme.rest.slice(2);
    hadScheme = true;
  } else if (rest.startsWith('//')) {
    return reject('The address is missing its https: scheme.');
  }
  if (rest.includes('\\')) return reject('The workspace contains backslashes.');

  const end = rest.search(/[/?#]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  const remainder = end === -1 ? '' : rest.slice(end);
  if (authority.length === 0) return reject('The workspace has no host name; enter your Zendesk subdomain, for example "acme".');
  if (authority.includes('@')) return reject('The address must not contain a user name or password (the part before "@").');
  if (authority.includes('[') || authority.includes(']')) return reject('IP addresses are not Zendesk workspaces.');
  if (authority.includes(':')) return reject('The address must not contain a port; use https://<subdomain>.zendesk.com.');
  if (authority.includes('%')) return reject('The workspace contains percent-encoded characters.');
  if (/^[0-9.]+$/.test(authority) && authority.includes('.')) return reject('IP addresses are not Zendesk workspaces.');

  let label: string;
  if (authority.endsWith(ZENDESK_SUFFIX)) {
    label = authority.slice(0, -ZENDESK_SUFFIX.length);
    if (label.length === 0) return reject('Enter your own subdomain of zendesk.com, for example acme.zendesk.com.');
  } else if (authority.includes('.')) {
    return reject('Only Zendesk addresses (<subdomain>.zendesk.com) are accepted.');
  } else {
    // A bare name: `acme`. With a scheme or a path (`https://acme`, `acme/x`) it is not a Zendesk address.
    if (hadScheme) return reject('Only Zendesk addresses (https://<subdomain>.zendesk.com) are accepted.');
    if (remainder.length > 0) return reject('Enter just the subdomain (for example "acme") or the full address acme.zendesk.com.');
    label = authority;
  }
  if (authority.split('.').some((part) => part.startsWith('xn--'))) {
    return reject('Internationalized (punycode) subdomains are not Zendesk subdomains.');
  }
  const problem = labelProblem(label);
  if (problem) return reject(problem);
  return { ok: true, subdomain: label };
}

/**
 * The base URL of a workspace from the ZENDESK_BASE_URL template (`https://{subdomain}.zendesk.com` or
 * `http://127.0.0.1:4010/{subdomain}`), without a trailing slash. Throws when the subdomain is invalid.
 */
export function workspaceBaseUrl(template: string, subdomain: string): string {
  if (!isValidSubdomain(subdomain)) throw new Error('Invalid Zendesk subdomain');
  if (!template.includes('{subdomain}')) throw new Error('The Zendesk base URL template must contain {subdomain}');
  const filled = template.split('{subdomain}').join(subdomain).replace(/\/+$/, '');
  const url = new URL(filled);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('The Zendesk base URL must be http(s)');
  if (url.username || url.password || url.search || url.hash) throw new Error('The Zendesk base URL must be a plain origin and path');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
