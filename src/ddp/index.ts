export {
  type CallOptions,
  type ConnectedContext,
  DdpClient,
  type DdpClientEvents,
  type DdpClientOptions,
  type DdpClientStats,
  type DdpCounter,
  type DdpCounters,
  DdpFatalError,
  type DdpStatus,
  type DdpSubscription,
  type Downtime,
  type ReadyInfo,
  type StreamListener,
} from './client.js';
export { decodeFrame, encodeFrame } from './codec.js';
export { decodeEjson, ejsonToJson, encodeEjson } from './ejson.js';
export {
  DdpClosedError,
  DdpDisconnectedError,
  DdpError,
  DdpNotSentError,
  DdpQueueFullError,
  DdpRemoteError,
  DdpTimeoutError,
  isDdpRemoteError,
} from './errors.js';
export type { DdpErrorObject, ServerMessage } from './messages.js';
export { type DdpTimers, systemTimers } from './timers.js';
