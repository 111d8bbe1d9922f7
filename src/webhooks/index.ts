/**
 * Outgoing webhooks: registry API, dispatcher, signer, SSRF guard and delivery processor.
 * See docs/webhooks.md.
 */
export type { AttemptRecord, DeadLetter } from './delivery-ledger.js';
export { checkEvictionPolicy, readEvictionPolicy } from './eviction-policy.js';
export { classifyAddress, type ForbiddenAddressKind, isForbiddenAddress } from './ip-policy.js';
export { generateWebhookSecret, WebhookSigner } from './signer.js';
export { type SignatureHeaders, SigningKeys } from './standard-webhooks.js';
export { checkTargetUrl, type HostResolver, parseTargetUrl, type TargetPolicy } from './target-policy.js';
export {
  DEFAULT_RETENTION,
  type DeliveryJobRetention,
  WEBHOOK_QUEUE_NAME,
  type WebhookJobData,
} from './webhook-queue.js';
export { createWebhookRouter, type WebhookRouterDeps } from './webhook-router.js';
export {
  type AttemptView,
  createWebhookService,
  type WebhookChange,
  type WebhookInput,
  type WebhookService,
  type WebhookServiceDeps,
  type WebhookServiceOptions,
  type WebhookStatsView,
  type WebhookView,
} from './webhook-service.js';
export type { DisabledReason, WebhookFormat, WebhookRecord, WebhookStatus } from './webhook-store.js';
export {
  startWebhookWorkers,
  type WebhookConnections,
  WebhookWorker,
  type WebhookWorkerDeps,
  type WebhookWorkerOptions,
} from './webhook-worker.js';
