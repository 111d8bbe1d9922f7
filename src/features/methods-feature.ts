/**
 * `/v1/methods/<name>`: synchronous calls of catalogued Rocket.Chat methods over the caller's
 * session, through the call router (not queued: that is the messages feature). API roles.
 */
import type { GatewayCore } from '../gateway-core.js';
import { createMethodsRouter } from '../http/routes/methods.js';
import { type Feature, type FeatureDeps, routersOnly } from './feature.js';

export function createMethodsFeature(core: GatewayCore, deps: FeatureDeps): Feature {
  if (!deps.isApi) return routersOnly('methods', []);
  const router = createMethodsRouter({
    calls: core.calls,
    credentials: core.credentials,
    authenticate: deps.authenticated,
  });
  return routersOnly('methods', [{ path: '/v1/methods', router }]);
}
