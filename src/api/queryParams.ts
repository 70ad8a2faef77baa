import { z } from 'zod';

/**
 * Builders of query parameters, shared by every listing (`/users`, `/users.csv`, `/utilization`,
 * `/v1/integrations`). Query values arrive as strings (Express's "simple" parser: a repeated parameter
 * becomes an array, which every parameter built here rejects as "must be given only once").
 */

const ONCE = 'must be given only once';

/** The message of a failed string check, or ONCE when the parameter was repeated. */
export const onceOr = (message: string) => (issue: { input?: unknown }) => (Array.isArray(issue.input) ? ONCE : message);

/** Escapes regex syntax outside character classes (`-` needs none, and JSON Schema's unicode regexes reject `\-`). */
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

export function booleanParam(description: string) {
  return z
    .enum(['true', 'false'], { error: onceOr('must be true or false') })
    .transform((v) => v === 'true')
    .optional()
    .describe(description);
}

/** A comma-separated list of known values (duplicates ignored). */
export function listParam<T extends string>(values: readonly T[], description: string) {
  const item = `(?:${values.map(escapeRegex).join('|')})`;
  const pattern = new RegExp(`^${item}(?:,${item})*$`);
  const expected = `one or more of ${values.join(', ')}, separated by commas`;
  return z
    .string({ error: onceOr(`must be ${expected}`) })
    .regex(pattern, {
      error: (issue) => {
        const unknown = String(issue.input)
          .split(',')
          .filter((v) => !(values as readonly string[]).includes(v));
        return unknown.length > 0
          ? `has unknown value${unknown.length > 1 ? 's' : ''} ${unknown.map((v) => JSON.stringify(v)).join(', ')}: must be ${expected}`
          : `must be ${expected}`;
      },
    })
    .transform((s) => [...new Set(s.split(','))] as T[])
    .optional()
    .describe(`${description} Comma-separated list of: ${values.join(', ')}.`);
}

/**
 * A whole number from `min` to `max`. `tooLarge` replaces the message for a number above `max` (when the
 * bound is a setting of the server, the answer should say so rather than look like a typo's).
 */
export function wholeNumberParam(min: number, max: number, description: string, tooLarge?: string) {
  const message = `must be a whole number from ${min} to ${max}`;
  return z
    .string({ error: onceOr(message) })
    .regex(/^\d{1,9}$/, message)
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, message)
        .max(max, tooLarge ?? message),
    )
    .optional()
    .describe(description);
}

export function instantParam(description: string) {
  const message = 'must be an ISO-8601 date (2024-05-01) or date-time with a zone (2024-05-01T12:00:00Z)';
  return z
    .union([z.iso.date(), z.iso.datetime({ offset: true })], { error: onceOr(message) })
    .transform((s) => new Date(s))
    .optional()
    .describe(description);
}
