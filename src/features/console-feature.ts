/** The browser console at `/console` (API roles; empty unless `CONSOLE_ENABLED`). */
import { createConsoleRouter } from '../console/index.js';
import type { GatewayCore } from '../gateway-core.js';
import { type Feature, type FeatureDeps, routersOnly } from './feature.js';

export function createConsoleFeature(core: GatewayCore, deps: FeatureDeps): Feature {
  if (!deps.isApi) return routersOnly('console', []);
  return routersOnly('console', [{ path: '/console', router: createConsoleRouter(core.config) }]);
}
