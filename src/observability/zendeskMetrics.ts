import type { RequestInfo, ZendeskObserver } from '../zendesk/http';
import type { Metrics } from './metrics';

/** What calls to Zendesk add to the metrics, through the client's observer hook. */

export interface ZendeskObserverOptions {
  /**
   * What `POST /oauth/tokens` means for this observer. A ZendeskClient only sends refresh grants there
   * (its TokenProvider), so the default counts them as token refreshes; pass `'authorization_code'` for
   * the observer given to the connect flow's code exchange.
   */
  tokenGrant?: 'refresh_token' | 'authorization_code';
}

function zendeskStatusLabel(info: Pick<RequestInfo, 'status' | 'failure'>): string {
  if (info.status > 0) return String(info.status);
  return info.failure ?? 'network';
}

/** A `ZendeskObserver` for `ZendeskClientDeps.observer` that feeds the Zendesk metrics. Never throws. */
export function zendeskObserver(
  metrics: Pick<Metrics, 'zendeskRequests' | 'zendeskRequestDuration' | 'zendeskRateLimited' | 'tokenRefreshes'>,
  options: ZendeskObserverOptions = {},
): Required<ZendeskObserver> {
  const tokenGrant = options.tokenGrant ?? 'refresh_token';
  return {
    onRequest(info: RequestInfo) {
      try {
        const bucket = info.bucket;
        metrics.zendeskRequests.inc({ bucket, status: zendeskStatusLabel(info) });
        metrics.zendeskRequestDuration.observe({ bucket }, Math.max(0, info.durationMs) / 1000);
        if (info.status === 429) metrics.zendeskRateLimited.inc({ bucket });
        if (tokenGrant === 'refresh_token' && info.method === 'POST' && info.endpoint === '/oauth/tokens') {
          metrics.tokenRefreshes.inc({ outcome: info.status >= 200 && info.status < 300 ? 'success' : 'failure' });
        }
      } catch {
        // metrics must never break a request
      }
    },
  };
}
