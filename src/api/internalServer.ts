import type { Metrics } from '../observability/metrics';
import { startMetricsServer, type MetricsServer } from '../observability/metricsServer';
import type { ApiDeps } from './deps';
import { apiReadiness } from './readiness';

/**
 * The API's internal server, on INTERNAL_PORT: GET /metrics (Prometheus), /healthz, /readyz (PostgreSQL and
 * Temporal reachable). Not on the public port: the metrics describe every tenant's traffic together, and
 * /readyz tells anyone who asks whether our database and Temporal are down. Publish this port to nothing but
 * the scraper and the orchestrator (docker-compose.yml: `expose` only).
 */
export function startInternalServer(options: {
  deps: Pick<ApiDeps, 'db' | 'temporal'>;
  metrics: Metrics;
  port: number;
  host?: string;
}): Promise<MetricsServer> {
  return startMetricsServer({ registry: options.metrics.registry, port: options.port, host: options.host, ready: () => apiReadiness(options.deps) });
}
