/**
 * `GET /metrics` on the main port, for every role, when no `METRICS_PORT` is set (with one, the
 * composition root serves the registry on its own server instead).
 */
import type { Registry } from 'prom-client';
import type { GatewayCore } from '../gateway-core.js';
import { createMetricsRouter } from '../http/routes/metrics.js';
import { type Feature, routersOnly } from './feature.js';

export function createMetricsFeature(core: GatewayCore, deps: { readonly registry?: Registry }): Feature {
  const isOnMainPort = deps.registry !== undefined && core.config.http.metricsPort === undefined;
  return routersOnly(
    'metrics',
    deps.registry && isOnMainPort
      ? [{ path: '/', router: createMetricsRouter({ registry: deps.registry }) }]
      : [],
  );
}
