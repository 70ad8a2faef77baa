import { dueEntitlementChecks, saveEntitlements, setEntitlementsStatus, type DueEntitlementCheck } from '../../db/repositories/entitlements';
import { setStreamProgress } from '../../db/repositories/integrationStreams';
import { classifyEntitlements } from '../../zendesk/entitlements';
import { ZendeskAuthError, ZendeskBadResponseError, ZendeskRequestError, ZendeskTransientError } from '../../zendesk/errors';
import { forEachConcurrently, stopping, type ChunkContext, type ChunkResult } from './tools';

/** Entitlement requests a chunk keeps in flight. */
const ENTITLEMENT_READS_AT_ONCE = 8;

/**
 * Entitlements of light agents and contributors (src/zendesk/entitlements.ts: they may take a paid seat through a Chat, Guide or
 * Explore role), one request per user, only for users never read, changed since, or read more than a
 * week ago; paced by the account's rate limit like every other call. Runs after the seat holders, so it
 * sees this sync's seat holders. A 403 means the account (plan or grant) does not allow it: noted on the
 * integration, and those users keep Zendesk's Support rule (free seats) — never a lost grant.
 */
export async function entitlementsChunk(ctx: ChunkContext): Promise<ChunkResult> {
  const { input, client, deadline, pulse, deps } = ctx;
  const { db, logger } = deps;
  // The seat holders are listed and their entitlements read: the seat report is whole (integration_streams).
  const seatReportDone = async (): Promise<ChunkResult> => {
    await setStreamProgress(db, input.integrationId, 'seat_holders', {}, true);
    return { ...result, done: true };
  };
  const result: ChunkResult = { done: false, pages: 0, records: 0 };
  let forbidden = false;
  let probed = false;
  const over = () => forbidden || Date.now() >= deadline || stopping();
  // Users whose read failed for a passing reason (after the client's own retries): left for the next
  // sync rather than failing the chunk, so one flaky request among hundreds costs one user, not all.
  const postponed = new Set<number>();
  let lastFailure: unknown;
  const readOne = async (user: DueEntitlementCheck) => {
    let response;
    try {
      response = await client.userEntitlements(user.id);
    } catch (err) {
      if (err instanceof ZendeskAuthError && err.kind === 'forbidden') {
        forbidden = true;
        return;
      }
      if (err instanceof ZendeskRequestError && err.status === 404) {
        // The user is gone since the users page: nothing to read; the users stream will say more.
        await saveEntitlements(db, input.integrationId, user.id, { entitlements: null, seat: null, reason: null, userUpdatedAt: user.updatedAt });
        return;
      }
      if (!(err instanceof ZendeskTransientError || err instanceof ZendeskBadResponseError)) throw err;
      postponed.add(user.id);
      lastFailure = err;
      return;
    }
    const verdict = classifyEntitlements(response);
    await saveEntitlements(db, input.integrationId, user.id, { entitlements: response.entitlements, ...verdict, userUpdatedAt: user.updatedAt });
    result.records++;
    pulse.beat(result);
  };
  for (;;) {
    const due = await dueEntitlementChecks(db, input.integrationId, 100, [...postponed]);
    if (due.length === 0) {
      if (postponed.size > 0)
        logger.warn({ users: postponed.size }, 'entitlements of some users could not be read this time (Zendesk errors); the next sync tries them again');
      return seatReportDone();
    }
    const before = result.records;
    const postponedBefore = postponed.size;
    // Until the account has answered once, one request alone: an account that refuses (403) costs
    // one request per sync, not a burst of them.
    const probe = !probed && ctx.integration.entitlements_status !== 'available';
    probed = true;
    // Then a few at a time: one request per user, and Zendesk's latency (not its rate limit, which the
    // client's limiter paces) would otherwise bound a large account to a few users a second.
    await forEachConcurrently(probe ? due.slice(0, 1) : due, probe ? 1 : ENTITLEMENT_READS_AT_ONCE, readOne, over);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by readOne, called concurrently above
    if (forbidden) {
      await setEntitlementsStatus(db, input.integrationId, 'forbidden');
      logger.warn({}, 'Zendesk refused to show user entitlements (403); light agents and contributors are counted as free seats');
      return seatReportDone();
    }
    // Nothing but failures: Zendesk is in trouble; let Temporal back off and retry the chunk.
    const attempted = probe ? 1 : due.length;
    if (result.records === before && postponed.size - postponedBefore === attempted) throw lastFailure;
    await setEntitlementsStatus(db, input.integrationId, 'available');
    result.pages++;
    if (over()) return result;
  }
}
