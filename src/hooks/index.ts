export { ChannelResolver, type ChannelResolverOptions } from './channel-resolver.js';
export {
  type HookRequestView,
  HookService,
  type HookServiceOptions,
  type HookView,
} from './hook-service.js';
export {
  type HookPatch,
  type HookRecord,
  type HookRequestEntry,
  HookStore,
  type HookStoreOptions,
  type NewHook,
} from './hook-store.js';
export { createHooksRouter, type HooksRouterDeps } from './hooks-router.js';
export {
  createIncomingHookRouter,
  hookRateLimitSubject,
  type IncomingHookRouterDeps,
} from './incoming-hook-router.js';
export { createPayloadParser, type IncomingMessage } from './incoming-payload.js';
