import type { SecretBox } from './secretBox';

/**
 * The OAuth `state`: `<flowId>.<integrationId>.<expiresAtSeconds>.<signature>`. The signature binds it to
 * one flow of one integration until it expires; single use is enforced by the oauth_flows row.
 */
export interface StateClaims {
  flowId: string;
  integrationId: string;
  expiresAt: Date;
}

export function signState(box: SecretBox, claims: StateClaims): string {
  const payload = `${claims.flowId}.${claims.integrationId}.${Math.floor(claims.expiresAt.getTime() / 1000)}`;
  return `${payload}.${box.sign(payload)}`;
}

export type StateCheck = { ok: true; claims: StateClaims } | { ok: false; reason: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Checks the signature only: the claims of a state this API issued, expired or not. The callback uses it for a
 * reload of a consent that arrived in time (its outcome is shown even after the link expired).
 */
export function verifyStateSignature(box: SecretBox, state: string): StateCheck {
  const parts = state.split('.');
  if (parts.length !== 4) return { ok: false, reason: 'The state parameter is malformed.' };
  const [flowId, integrationId, exp, signature] = parts as [string, string, string, string];
  if (!UUID.test(flowId) || !UUID.test(integrationId) || !/^\d{1,12}$/.test(exp)) {
    return { ok: false, reason: 'The state parameter is malformed.' };
  }
  // Any key of the ring: a link signed just before a key rotation stays valid while its key is listed.
  if (!box.verifySignature(`${flowId}.${integrationId}.${exp}`, signature)) {
    return { ok: false, reason: 'The state parameter is not valid.' };
  }
  return { ok: true, claims: { flowId, integrationId, expiresAt: new Date(Number(exp) * 1000) } };
}

export const EXPIRED_STATE = 'This consent link has expired. Start the connection again.';
