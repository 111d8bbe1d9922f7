/**
 * Rocket.Chat simulator: a real DDP (WebSocket) + REST server that speaks like Rocket.Chat 6.x/7.x,
 * with a control API for tests, in the flavor of Meteor's DDP server or of Rocket.Chat's
 * ddp-streamer. docs/simulator-protocol.md describes the protocol it follows.
 */
export { SimControl } from './control.js';
export {
  type CreateRoomInput,
  type CreateUserInput,
  type PostMessageExtra,
  SimControlError,
  type SimStatsSnapshot,
  type SimUserInfo,
} from './control-types.js';
export { FLAVORS, type Flavor } from './flavor.js';
export type { FrameDirection, FrameFilter, FrameRecord } from './frame-log.js';
export type { FloodResult } from './message-service.js';
export type { RestRateLimitOptions, RestRateLimitRule, SimulatorOptions } from './options.js';
export { type Frame, RawDdpClient, type WaitOptions, waitUntil } from './raw-ddp-client.js';
export { SEED_USERS } from './seed.js';
export { type Simulator, startSimulator } from './simulator.js';
export type { RevokeOptions } from './token-revocation.js';
export type { SimMessage, SimRoom, SimSubscription, UserStatus } from './types.js';
