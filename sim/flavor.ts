/**
 * Which of Rocket.Chat's two DDP servers the simulator answers like: Meteor's own DDP server
 * (single-process deployments) or the `ddp-streamer` microservice (deployments with
 * microservices). Everything that differs on the wire between the two is decided here or asks
 * `isStreamer`; docs/simulator-protocol.md lists the differences.
 *
 * The flavor can change at run time (control API); a connection keeps the one it was opened with.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { MeteorErrorWire } from './meteor-error.js';

export const FLAVORS = ['meteor', 'streamer'] as const;
export type Flavor = (typeof FLAVORS)[number];

export function isFlavor(value: unknown): value is Flavor {
  return typeof value === 'string' && (FLAVORS as readonly string[]).includes(value);
}

/** The run-time switch, read by each new connection. */
export interface FlavorSetting {
  current: Flavor;
}

/** WebSocket close codes and reasons the streamer uses (RC ddp-streamer Client.ts, constants.ts). */
export const STREAMER_CLOSE = {
  /** First frame not `connect`, a `method`/`sub` without its id or name, and after `logout`. */
  protocolError: 1002,
  /** Unparseable JSON. */
  unsupportedData: 1007,
  /** No frame within the heartbeat timeout after a ping. */
  timeout: 4000,
} as const;
export const STREAMER_TIMEOUT_REASON = 'TIMEOUT';

/** The streamer's heartbeat: ping after 30 s of silence, close 30 s later. */
export const STREAMER_HEARTBEAT_MS = 30_000;
/** Its first idle timer is this short: a client slower to send `connect` is pinged first. */
export const STREAMER_FIRST_PING_MS = 30;
/** Meteor's ddp-server heartbeat (interval and timeout). */
export const METEOR_HEARTBEAT_MS = 15_000;

/** The streamer's greeting; Meteor sends `{"server_id":"0"}`. */
export const STREAMER_GREETING = '{"msg":"server_id","server_id":"0"}';
export const METEOR_GREETING = '{"server_id":"0"}';

/** Every login failure on the streamer (no final period, unlike Meteor's resume text). */
export const STREAMER_LOGIN_FAILED = "You've been logged out by the server. Please log in again";

/**
 * A version 1 uuid (time based), the shape of the streamer's DDP session ids. The node part is
 * random with the multicast bit set, as RFC 4122 allows when no MAC address is used.
 */
export function uuidV1(nowMs = Date.now()): string {
  // 100 ns intervals since 1582-10-15.
  const ticks = BigInt(nowMs) * 10_000n + 0x01b21dd213814000n + BigInt(nextTickOffset());
  const timeLow = Number(ticks & 0xffffffffn);
  const timeMid = Number((ticks >> 32n) & 0xffffn);
  const timeHigh = Number((ticks >> 48n) & 0x0fffn) | 0x1000;
  const random = randomBytes(8);
  const clockSeq = ((random.readUInt16BE(0) & 0x3fff) | 0x8000).toString(16).padStart(4, '0');
  random[2] = (random[2] ?? 0) | 0x01;
  const node = random.subarray(2, 8).toString('hex');
  return `${hex(timeLow, 8)}-${hex(timeMid, 4)}-${hex(timeHigh, 4)}-${clockSeq}-${node}`;
}

let tickOffset = 0;
/** Ids made in the same millisecond still differ in their time fields. */
function nextTickOffset(): number {
  tickOffset = (tickOffset + 1) % 10_000;
  return tickOffset;
}

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}

/** The streamer's resume tokens are version 4 uuids. */
export function uuidV4(): string {
  return randomUUID();
}

/** The streamer serializes a Meteor.Error with its keys in this order (and `details` last). */
export function streamerErrorWire(wire: MeteorErrorWire): Record<string, unknown> {
  return {
    isClientSafe: wire.isClientSafe,
    errorType: wire.errorType,
    error: wire.error,
    ...(wire.reason !== undefined && { reason: wire.reason }),
    message: wire.message,
    ...(wire.details !== undefined && { details: wire.details }),
  };
}
