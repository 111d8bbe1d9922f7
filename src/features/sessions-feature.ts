/** `/v1/sessions`: registering Rocket.Chat credentials, SSE tokens, logout (API roles). */
import type { GatewayCore } from '../gateway-core.js';
import { createSessionsRouter } from '../http/routes/sessions.js';
import { type Feature, type FeatureDeps, routersOnly } from './feature.js';

export function createSessionsFeature(_core: GatewayCore, deps: FeatureDeps): Feature {
  if (!deps.isApi) return routersOnly('sessions', []);
  return routersOnly('sessions', [
    { path: '/v1/sessions', router: createSessionsRouter(deps.http, deps.auth) },
  ]);
}
