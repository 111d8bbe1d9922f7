/** The gateway client's public face. */

export { Backoff, type BackoffOptions } from './backoff.js';
export { GatewayRequestError, WebhookVerificationError, type WebhookVerificationFailure } from './errors.js';
export { EventStream, type EventStreamOptions, type GapNotice, type StreamItem } from './event-stream.js';
export {
  GatewayClient,
  type GatewayClientOptions,
  type LoginCredentials,
  type SendOptions,
  type SentMessage,
  type TokenSource,
} from './gateway-client.js';
export type * from './generated/openapi-types.js';
export { OPERATIONS } from './generated/openapi-types.js';
export { FilePositionStore, MemoryPositionStore, type PositionStore } from './position-store.js';
export { type SseFrame, SseParser } from './sse-parser.js';
export {
  type VerifiedWebhook,
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookHeaders,
} from './webhook-verifier.js';
