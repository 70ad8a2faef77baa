import type { RequestHandler, Router } from 'express';
import type { z } from 'zod';

/**
 * One route of the HTTP API, defined once: the routes file registers its handler from it (`mount`) and the
 * OpenAPI document is generated from it (src/api/openapi.ts), so the two cannot drift apart.
 */

export type JsonSchema = Record<string, unknown>;
export type ZodObjectLike = z.ZodObject<z.ZodRawShape>;

/** What a response carries: a zod schema (JSON), or a non-JSON media type. */
export type Body = z.ZodType | { mediaType: 'text/csv' | 'text/html' | 'text/plain' | 'text/javascript'; description: string };

export interface ResponseHeader {
  description: string;
  schema: JsonSchema;
}

export interface ResponseSpec {
  description: string;
  body?: Body;
  /** Problem details (application/problem+json) instead of application/json. */
  problem?: boolean;
  headers?: Record<string, ResponseHeader>;
}

export interface RouteSpec {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** OpenAPI path template (`{id}`); Express's (`:id`) is derived from it. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** `tenant` also documents 503 for a database too busy (src/api/openapi.ts); 500 is documented on every route. */
  security: 'admin' | 'tenant' | 'none';
  params?: ZodObjectLike;
  query?: ZodObjectLike;
  body?: z.ZodType;
  responses: Record<number, ResponseSpec>;
}

/** Identity, for the type check and to mark a spec where it is defined. */
export const defineRoute = (spec: RouteSpec): RouteSpec => spec;

/** The Express path of an OpenAPI path template: `/v1/integrations/{id}` → `/v1/integrations/:id`. */
export const expressPath = (path: string): string => path.replace(/\{(\w+)\}/g, ':$1');

/** Registers `handlers` for the spec's method and path. */
export function mount(router: Router, spec: RouteSpec, ...handlers: RequestHandler[]): void {
  router[spec.method](expressPath(spec.path), ...handlers);
}
