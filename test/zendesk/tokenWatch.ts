import type { SandboxWorkspace } from '../../src/sandbox';

/**
 * Watches every access token the product presents to a sandbox workspace (each API request's bearer token),
 * at the moment the sandbox looks it up: whether it had expired, or had been rotated away or revoked.
 * The sandbox answers both with the same 401 invalid_token; only the test can tell them apart.
 */
export interface AccessTokenWatch {
  presented: number;
  /** Presented at or after its expiry: a client that knows the expiry never does this. */
  expired: number;
  /** Presented after it had been rotated away (another stream's refresh) or revoked, while not expired. */
  rotatedAway: number;
}

export function watchAccessTokens(ws: SandboxWorkspace): AccessTokenWatch {
  const watch: AccessTokenWatch = { presented: 0, expired: 0, rotatedAway: 0 };
  const oauth = ws.oauth;
  const original = oauth.accessToken.bind(oauth);
  oauth.accessToken = (token: string) => {
    const record = original(token);
    watch.presented++;
    if (record) {
      if (record.expiresAt !== null && ws.now() >= record.expiresAt) watch.expired++;
      else if (record.revoked) watch.rotatedAway++;
    }
    return record;
  };
  return watch;
}
