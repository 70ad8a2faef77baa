import { timingSafeEqual, createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Kysely } from 'kysely';
import { hashApiKey } from '../crypto/apiKeys';
import { findKeyOwner, type KeyOwner } from '../db/repositories/apiKeys';
import type { Database, Tenant } from '../db/tables';
import type { ApiCache } from './cache/apiCache';
import { unauthorized } from './problems';

declare module 'express-serve-static-core' {
  interface Request {
    tenant?: Tenant;
    /** The id of the key the request authenticated with (`/v1/tenant/keys` marks it `current`). */
    apiKeyId?: string;
  }
}

function bearer(req: Request): string {
  const header = req.get('authorization');
  if (!header) throw unauthorized('Send an API key as `Authorization: Bearer <key>`.');
  const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
  if (!match?.[1]) throw unauthorized('The Authorization header must be `Bearer <key>`.');
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
 * Authenticates a tenant key (src/db/repositories/apiKeys.ts: usable, its tenant active). With a cache, a
 * known key's owner is kept (by the key's SHA-256 hash, never the key) until a tenant row or one of its key
 * rows changes (`tenant:<id>` notification: a rotation, a revocation, an offboarding) or the cache's TTL;
 * unknown keys are never cached, so a new key works at once. (Any tenant change clears the whole key cache,
 * lookups in flight included: tenants change rarely, and a revoked key must stop working at once.) A key's
 * grace period ends without any write, so its end travels with the cached entry and is checked on every
 * request.
 */
export function requireTenant(db: Kysely<Database>, cache?: ApiCache) {
  const lookup = async (hash: string): Promise<KeyOwner | undefined> => {
    if (!cache) return findKeyOwner(db, hash);
    try {
      const { value } = await cache.tenants.get(hash, [], async () => {
        const owner = await findKeyOwner(db, hash);
        if (!owner) throw new UnknownKey();
        return { value: owner, bytes: 1 };
      });
      return value;
    } catch (err) {
      if (err instanceof UnknownKey) return undefined;
      throw err;
    }
  };
  return async (req: Request, _res: Response, next: NextFunction) => {
    const owner = await lookup(hashApiKey(bearer(req)));
    if (!owner || (owner.expiresAt !== null && owner.expiresAt.getTime() <= Date.now())) throw unauthorized('The API key is not valid.');
    req.tenant = owner.tenant;
    req.apiKeyId = owner.keyId;
    next();
  };
}
