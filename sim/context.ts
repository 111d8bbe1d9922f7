/**
 * Everything a request handler needs, built once per simulator (no module-level state).
 */
import type { AuthService } from './auth.js';
import type { Clock } from './clock.js';
import type { ConnectionRegistry } from './connection-registry.js';
import type { Faults } from './faults.js';
import type { FlavorSetting } from './flavor.js';
import type { FrameLog } from './frame-log.js';
import type { MessageEdits } from './message-edits.js';
import type { MessageService } from './message-service.js';
import type { Notifier } from './notifier.js';
import type { ResolvedOptions } from './options.js';
import type { PresenceService } from './presence.js';
import type { DdpRateLimiter } from './rate-limiter.js';
import type { RoomService } from './room-service.js';
import type { Store } from './store.js';
import type { StreamHub } from './stream-hub.js';

export interface SimStats {
  internalErrors: number;
  lastInternalError?: string;
  /** REST calls per client address as the rate limiter saw it, and how many it refused. */
  readonly restClients: Map<string, { calls: number; refused: number }>;
}

export interface SimContext {
  readonly options: ResolvedOptions;
  /** Which Rocket.Chat DDP server new connections answer like. */
  readonly flavor: FlavorSetting;
  readonly clock: Clock;
  readonly store: Store;
  readonly auth: AuthService;
  readonly hub: StreamHub;
  readonly notifier: Notifier;
  readonly presence: PresenceService;
  readonly messages: MessageService;
  readonly edits: MessageEdits;
  readonly rooms: RoomService;
  readonly ddpLimiter: DdpRateLimiter;
  readonly faults: Faults;
  readonly frames: FrameLog;
  readonly connections: ConnectionRegistry;
  readonly stats: SimStats;
}
