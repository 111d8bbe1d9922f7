/**
 * Incoming hooks: `/v1/hooks` (managing them) and `/hooks/<id>/<token>` (posting through them into
 * the outbound queue). API roles only.
 */
import type { GatewayCore } from '../gateway-core.js';
import {
  createHooksRouter,
  createIncomingHookRouter,
  HookService,
  HookStore,
  hookRateLimitSubject,
} from '../hooks/index.js';
import { createRateLimit } from '../http/rate-limit.js';
import type { OutboundQueue } from '../outbound/index.js';
import { type Feature, type FeatureDeps, routersOnly } from './feature.js';

export function createHooksFeature(
  core: GatewayCore,
  deps: FeatureDeps & { readonly outbound: OutboundQueue },
): Feature {
  if (!deps.isApi) return routersOnly('hooks', []);
  const { config } = core;
  const hooks = new HookService({
    store: new HookStore({ redis: core.redis, keys: core.keys, cipher: core.cipher }),
    outbound: deps.outbound,
    calls: core.calls,
    publicUrl: config.http.publicUrl,
  });
  return routersOnly('hooks', [
    { path: '/v1/hooks', router: createHooksRouter({ hooks, authenticate: deps.authenticated }) },
    {
      path: '/hooks',
      // Signatures are checked over the exact bytes: the router reads the body itself.
      readsOwnBody: true,
      router: createIncomingHookRouter({
        hooks,
        logger: core.logger,
        bodyLimitBytes: config.http.requestBodyLimitBytes,
        rateLimit: createRateLimit(deps.http, { policy: 'hook', subjectOf: hookRateLimitSubject }),
      }),
    },
  ]);
}
