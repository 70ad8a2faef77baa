import { z } from 'zod';
import { httpsUnlessLoopback } from '../net/loopback';

/**
 * A tenant's settings of the hosted Connect page (`PATCH /v1/tenant`): its display name, the origins a
 * connect session may post its outcome to, and the URLs it may send the admin back to. Plain http is allowed
 * only for loopback hosts — the rule PUBLIC_URL and ZENDESK_BASE_URL follow (src/net/loopback.ts) — so a
 * local platform and the tests can register `http://127.0.0.1:8080`, and nothing else crosses a network in
 * the clear.
 */

const MAX_ENTRIES = 20;

/** Why `text` is not an exact origin, or undefined when it is one. */
export function originProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not an origin such as https://app.example.com';
  }
  const scheme = httpsUnlessLoopback(url);
  if (scheme) return scheme;
  // An origin is scheme, host and port only; `new URL` would quietly add a "/" or drop a default port.
  if (url.origin !== text) return `must be an exact origin (scheme, host and optional port, no path or trailing slash), such as ${url.origin}`;
  return undefined;
}

/** Why `text` is not a usable return URL, or undefined when it is one. */
export function returnUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not an absolute URL';
  }
  const scheme = httpsUnlessLoopback(url);
  if (scheme) return scheme;
  if (url.username || url.password) return 'must not carry a user name or password';
  if (url.hash) return 'must not have a fragment';
  if (url.href !== text) return `must be written in its normal form (${url.href})`;
  return undefined;
}

const checked = (problem: (text: string) => string | undefined, what: string) =>
  z
    .string({ error: `must be ${what}` })
    .max(2048, 'must be at most 2048 characters')
    .superRefine((text, ctx) => {
      const reason = problem(text);
      if (reason) ctx.addIssue({ code: 'custom', message: reason });
    });

const uniqueList = <T extends z.ZodType<string>>(item: T, description: string) =>
  z
    .array(item, { error: 'must be an array of strings' })
    .max(MAX_ENTRIES, `must have at most ${MAX_ENTRIES} entries`)
    .refine((list) => new Set(list).size === list.length, 'must not repeat an entry')
    .describe(description);

export const UpdateTenantSettingsBody = z
  .strictObject({
    displayName: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(200, 'must be at most 200 characters')
      .refine((name) => !name.includes('\u0000'), 'must not contain NUL characters')
      .nullable()
      .optional()
      .describe("The name the Connect page shows the customer's admin (who is asking for access); null: the tenant's name"),
    allowedOrigins: uniqueList(
      checked(originProblem, 'an origin'),
      'Exact origins (`https://host[:port]`) a connect session may name as `allowedOrigin` (its page posts the outcome there); replaces the list. Plain http only for loopback hosts.',
    ).optional(),
    allowedReturnUrls: uniqueList(
      checked(returnUrlProblem, 'a URL'),
      'URLs a connect session may name as `returnUrl` (its page links back there); replaces the list. https, or http for loopback hosts; no fragment.',
    ).optional(),
  })
  .describe('Only the fields given change.');
