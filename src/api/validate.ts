import type { z } from 'zod';
import { badRequest, zodFieldErrors } from './problems';

/** Parses one part of a request or throws a 400 problem naming each invalid field. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, part: 'body' | 'query' | 'path'): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) {
    const errors = zodFieldErrors(result.error);
    throw badRequest(`The request ${part} is invalid: ${errors.map((e) => `${e.name} ${e.reason}`).join('; ')}.`, errors);
  }
  return result.data;
}
