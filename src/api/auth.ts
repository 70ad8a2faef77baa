import { timingSafeEqual, createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Kysely } from 'kysely';
import { hashApiKey } from '../crypto/apiKeys';
import { findTenantByKeyHash } from '../db/repositories/tenants';
import type { Database, Tenant } from '../db/tables';
import type { ApiCache } from './cache/apiCache';
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

class UnknownKey extends Error {}

/**
 * Authenticates a tenant key. With a cache, a known key's tenant is kept (by the key's SHA-256 hash,
 * never the key) until the tenant row changes (`tenant:<id>` notification) or the cache's TTL; unknown
 * keys are never cached, so a new tenant's key works at once. (Any tenant change clears the whole key
 * cache, lookups in flight included: tenants change rarely, and a changed key must stop working at once.)
 */
export function requireTenant(db: Kysely<Database>, cache?: ApiCache) {
  const lookup = async (hash: string): Promise<Tenant | undefined> => {
    if (!cache) return findTenantByKeyHash(db, hash);
    try {
      const { value } = await cache.tenants.get(hash, [], async () => {
        const tenant = await findTenantByKeyHash(db, hash);
        if (!tenant) throw new UnknownKey();
        return { value: tenant, bytes: 1 };
      });
      return value;
    } catch (err) {
      if (err instanceof UnknownKey) return undefined;
      throw err;
    }
  };
  return async (req: Request, _res: Response, next: NextFunction) => {
    const tenant = await lookup(hashApiKey(bearer(req)));
    if (!tenant) throw unauthorized('The API key is not valid.');
    req.tenant = tenant;
    next();
  };
}
