/**
 * Live fan-out on one process: a single Redis subscriber connection, one channel per user that
 * has local listeners (reference-counted), one JSON.parse per event per process whatever the
 * number of local listeners. Events reach every replica that listens, with no polling.
 */
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import type { GatewayEventType } from './types.js';

/** What listeners need to route an event without parsing it again. */
export interface LiveEvent {
  readonly id: string;
  readonly type: GatewayEventType;
  readonly userId: string;
  readonly roomId: string | undefined;
  /** The serialized envelope, byte for byte as logged. */
  readonly json: string;
}

export type LiveListener = (event: LiveEvent) => void;

export interface LiveHubOptions {
  /** A connection used only for SUBSCRIBE (it enters subscriber mode); the hub owns it. */
  readonly subscriber: RedisClient;
  readonly keys: GatewayKeys;
  readonly onError?: (error: Error) => void;
}

export class LiveHub {
  readonly #subscriber: RedisClient;
  readonly #keys: GatewayKeys;
  readonly #listeners = new Map<string, Set<LiveListener>>();
  readonly #pending = new Map<string, Promise<unknown>>();
  readonly #resyncListeners = new Set<() => void>();
  #closed = false;
  #hasBeenReady = false;

  constructor(options: LiveHubOptions) {
    this.#subscriber = options.subscriber;
    this.#keys = options.keys;
    this.#hasBeenReady = options.subscriber.status === 'ready';
    this.#subscriber.on('message', (channel: string, message: string) => this.#dispatch(channel, message));
    // Pub/Sub is fire-and-forget: what was published while the subscriber connection was down
    // is lost to it. Listeners re-read the log from their last id when told (ioredis itself
    // re-subscribes the channels on reconnect).
    this.#subscriber.on('ready', () => {
      if (this.#hasBeenReady) for (const listener of this.#resyncListeners) listener();
      this.#hasBeenReady = true;
    });
    if (options.onError) this.#subscriber.on('error', options.onError);
  }

  /**
   * Starts delivering a user's events to `listener`. Resolves once Redis has confirmed the
   * subscription, so a caller that then reads the log cannot miss an event in between.
   */
  async listen(userId: string, listener: LiveListener): Promise<() => void> {
    if (this.#closed) throw new Error('live hub is closed');
    const channel = this.#keys.user(userId).liveChannel;
    let set = this.#listeners.get(channel);
    if (!set) {
      set = new Set();
      this.#listeners.set(channel, set);
      this.#pending.set(channel, this.#subscriber.subscribe(channel));
    }
    set.add(listener);
    await this.#pending.get(channel);
    return () => this.#unlisten(channel, listener);
  }

  /** Called after the subscriber connection came back: live events may have been missed. */
  onResync(listener: () => void): () => void {
    this.#resyncListeners.add(listener);
    return () => this.#resyncListeners.delete(listener);
  }

  get channelCount(): number {
    return this.#listeners.size;
  }

  #unlisten(channel: string, listener: LiveListener): void {
    const set = this.#listeners.get(channel);
    if (!set?.delete(listener) || set.size > 0) return;
    this.#listeners.delete(channel);
    this.#pending.delete(channel);
    if (!this.#closed) this.#subscriber.unsubscribe(channel).catch(() => {});
  }

  #dispatch(channel: string, json: string): void {
    const set = this.#listeners.get(channel);
    if (!set || set.size === 0) return;
    let head: { id: string; type: GatewayEventType; userId: string; roomId?: string };
    try {
      head = JSON.parse(json);
    } catch {
      return;
    }
    // Only the event log publishes here, but a `null` from anyone with Redis access must not
    // throw inside the subscriber's handler.
    if (typeof head?.id !== 'string') return;
    const event: LiveEvent = { id: head.id, type: head.type, userId: head.userId, roomId: head.roomId, json };
    for (const listener of set) listener(event);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    this.#pending.clear();
    this.#resyncListeners.clear();
    await this.#subscriber.quit().catch(() => this.#subscriber.disconnect());
  }
}
