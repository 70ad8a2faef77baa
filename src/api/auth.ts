import { timingSafeEqual, createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Kysely } from 'kysely';
import { hashApiKey } from '../crypto/apiKeys';
import { findTenantByKeyHash } from '../db/repositories/tenants';
import type { Database, Tenant } from '../db/tables';
import { unauthorized } from './problems';

declare module 'express-serve-static-core' {
  interface Request {
    tenant?: Tenant;
  }
}

function bearer(req: Request): string {
  const header = req.get('authorization');
  if (!header) throw unauthorized('Send an API key as `Authorization: Bearer <key>`.');
  const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
  if (!match) throw unauthorized('The Authorization header must be `Bearer <key>`.');
  return match[1];
}

const digest = (text: string) => createHash('sha256').update(text).digest();

export function requireAdmin(adminApiKey: string) {
  const expected = digest(adminApiKey);
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!timingSafeEqual(digest(bearer(req)), expected)) throw unauthorized('The API key is not valid for this endpoint.');
    next();
  };
}

export function requireTenant(db: Kysely<Database>) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const tenant = await findTenantByKeyHash(db, hashApiKey(bearer(req)));
    if (!tenant) throw unauthorized('The API key is not valid.');
    req.tenant = tenant;
    next();
  };
}
