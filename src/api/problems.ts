import type { ErrorRequestHandler, RequestHandler } from 'express';
import { newErrorReference } from '../observability/errorReference';

/** RFC 9457 problem details: every error the API returns has this shape. */
export interface FieldError {
  name: string;
  reason: string;
}

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors: FieldError[] = [],
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

const TYPES: Record<number, string> = {
  400: 'invalid-request',
  401: 'unauthorized',
  404: 'not-found',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  422: 'unprocessable',
  500: 'internal-error',
  503: 'unavailable',
};

export const badRequest = (detail: string, errors: FieldError[] = []) => new HttpProblem(400, 'Invalid request', detail, errors);
export const notFound = (detail = 'No such resource.') => new HttpProblem(404, 'Not found', detail);
export const unauthorized = (detail: string) => new HttpProblem(401, 'Unauthorized', detail);
/** Well-formed, but naming something the tenant has not registered or does not have (`errors` names the field). */
export const unprocessable = (detail: string, errors: FieldError[]) => new HttpProblem(422, 'Unprocessable request', detail, errors);
export const conflict = (detail: string, extra: Record<string, unknown> = {}) => new HttpProblem(409, 'Conflict', detail, [], extra);

function problemBody(problem: HttpProblem) {
  return {
    type: `https://zendesk-integration-worker.dev/problems/${TYPES[problem.status] ?? 'error'}`,
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    errors: problem.errors,
    ...problem.extra,
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => next(notFound(`No route for ${req.method} ${req.path}.`));

/**
 * Last middleware: known problems as they are, body-parser errors as 4xx, anything else as a 500 that says
 * nothing of the error (a PostgreSQL message names tables and constraints, a stack names our code) but
 * carries a reference; `log` gets the error with that reference, so support finds it from what the tenant quotes.
 */
export function problemHandler(log: (err: unknown, reference: string) => void): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    let problem: HttpProblem;
    if (err instanceof HttpProblem) problem = err;
    else if (err?.type === 'entity.too.large') problem = new HttpProblem(413, 'Payload too large', 'The request body is too large.');
    else if (err?.type === 'entity.parse.failed')
      problem = badRequest('The request body is not valid JSON.', [{ name: '(body)', reason: 'is not valid JSON' }]);
    else if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500)
      problem = new HttpProblem(err.status, 'Invalid request', 'The request could not be read.');
    else {
      const reference = newErrorReference();
      log(err, reference);
      problem = new HttpProblem(
        500,
        'Internal error',
        `Something went wrong on our side (reference ${reference}). Try again in a moment; if it keeps happening, contact support and quote the reference.`,
        [],
        { reference },
      );
    }
    // A failure after the body began (a stream cut short) cannot become a problem: end the response.
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res
      .status(problem.status)
      .type('application/problem+json')
      .send(JSON.stringify(problemBody(problem)));
  };
}
