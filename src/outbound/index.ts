export { outboundBackoffMs } from './backoff.js';
export { createMessagesRouter, type MessagesRouterDeps } from './messages-router.js';
export { createMethodsRouter, type MethodsRouterDeps } from './methods-router.js';
export {
  type AcceptResult,
  type MessageTarget,
  OUTBOUND_QUEUE_NAME,
  OutboundQueue,
  type OutboundQueueOptions,
} from './outbound-queue.js';
export { OutboundWorker, type OutboundWorkerOptions, type OutboundWorkerState } from './outbound-worker.js';
export type {
  OutboundError,
  OutboundJobView,
  OutboundKind,
  OutboundOutcome,
  OutboundRequest,
  OutboundStatus,
} from './types.js';
