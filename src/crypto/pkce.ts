import { createHash, randomBytes } from 'node:crypto';

/** PKCE (RFC 7636) with S256: the verifier stays on the server, only the challenge travels. */
export function createPkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(48).toString('base64url'); // 64 characters from the unreserved set
  return { verifier, challenge: pkceChallenge(verifier) };
}

function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}
