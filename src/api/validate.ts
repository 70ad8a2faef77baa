import type { z, ZodError } from 'zod';
import { badRequest, type FieldError } from './problems';

/**
 * The parts of a request a zod schema checks, each with how its 400 problem words the detail, names a
 * failure of the whole value, and lists unknown fields. A `listing` is the query of a list or report
 * (`/users`, `/users.csv`, `/utilization`, `/reclaimable`, `/v1/integrations`, `/v1/tenants`): each unknown
 * parameter is named on its own, with its own reason when one is given.
 */
const PARTS = {
  body: { subject: 'The request body', whole: '(body)', eachUnknown: false },
  path: { subject: 'The request path', whole: '(body)', eachUnknown: false },
  query: { subject: 'The request query', whole: '(body)', eachUnknown: false },
  listing: { subject: 'The query', whole: '(query)', eachUnknown: true },
} as const;

export type RequestPart = keyof typeof PARTS;

/** The field errors of a failed parse: unknown fields together or one by one, every other issue with its message. */
function fieldErrors(error: ZodError, part: RequestPart, unknownReasons: Record<string, string>): FieldError[] {
  const { whole, eachUnknown } = PARTS[part];
  return error.issues.flatMap((issue): FieldError[] => {
    if (issue.code === 'unrecognized_keys') {
      if (eachUnknown) return issue.keys.map((key) => ({ name: key, reason: unknownReasons[key] ?? 'is not a known parameter' }));
      return [{ name: issue.keys.join(', '), reason: 'is not a known parameter' }];
    }
    return [{ name: issue.path.map(String).join('.') || whole, reason: issue.message }];
  });
}

/** The 400 problem for invalid fields of one part of a request (also for checks that span fields). */
export function invalidRequest(part: RequestPart, errors: FieldError[]) {
  return badRequest(`${PARTS[part].subject} is invalid: ${errors.map((e) => `${e.name} ${e.reason}`).join('; ')}.`, errors);
}

/**
 * Parses one part of a request or throws a 400 problem naming each invalid field. `unknownReasons`
 * replaces "is not a known parameter" for the unknown parameters of a `listing` it names.
 */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, part: RequestPart, unknownReasons: Record<string, string> = {}): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw invalidRequest(part, fieldErrors(result.error, part, unknownReasons));
  return result.data;
}
