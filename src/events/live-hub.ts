/**
 * Live fan-out on one process: a single Redis subscriber connection, one channel per user that
 * has local listeners (reference-counted), one cheap parse of the published frame per event per
 * process whatever the number of local listeners (live-message.ts). Events reach every replica
 * that listens, with no polling.
 */
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import { type LiveEvent, parseLiveMessage } from './live-message.js';

export type { LiveEvent } from './live-message.js';

export type LiveListener = (event: LiveEvent) => void;

interface ChannelListeners {
  readonly userId: string;
  readonly listeners: Set<LiveListener>;
}

export interface LiveHubOptions {
  /** A connection used only for SUBSCRIBE (it enters subscriber mode); the hub owns it. */
  readonly subscriber: RedisClient;
  readonly keys: GatewayKeys;
  readonly onError?: (error: Error) => void;
}

export class LiveHub {
  readonly #subscriber: RedisClient;
  readonly #keys: GatewayKeys;
  readonly #listeners = new Map<string, ChannelListeners>();
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
    let entry = this.#listeners.get(channel);
    if (!entry) {
      entry = { userId, listeners: new Set() };
      this.#listeners.set(channel, entry);
      this.#pending.set(channel, this.#subscriber.subscribe(channel));
    }
    entry.listeners.add(listener);
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
    const entry = this.#listeners.get(channel);
    if (!entry?.listeners.delete(listener) || entry.listeners.size > 0) return;
    this.#listeners.delete(channel);
    this.#pending.delete(channel);
    if (!this.#closed) this.#subscriber.unsubscribe(channel).catch(() => {});
  }

  #dispatch(channel: string, message: string): void {
    const entry = this.#listeners.get(channel);
    if (!entry || entry.listeners.size === 0) return;
    const event = parseLiveMessage(entry.userId, message);
    if (!event) return;
    for (const listener of entry.listeners) listener(event);
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
