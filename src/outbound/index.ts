export { outboundBackoffMs } from './backoff.js';
export { JobRunner } from './job-runner.js';
export { createMessagesRouter, createSendHandler, type MessagesRouterDeps } from './messages-router.js';
export {
  type AcceptResult,
  type MessageTarget,
  OUTBOUND_QUEUE_NAME,
  OutboundQueue,
  type OutboundQueueOptions,
} from './outbound-queue.js';
export { type OutboundSending, startOutboundSending } from './outbound-sending.js';
export { OutboundWatchdog, type OutboundWatchdogOptions } from './outbound-watchdog.js';
export { Outbox, type OutboxOptions } from './outbox.js';
export { OutcomeRecorder } from './outcome-recorder.js';
export type {
  OutboundError,
  OutboundJobView,
  OutboundKind,
  OutboundOutcome,
  OutboundRequest,
  OutboundStatus,
} from './types.js';
