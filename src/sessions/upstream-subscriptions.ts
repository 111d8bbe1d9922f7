/**
 * The DDP stream subscriptions of one session, kept equal to what its consumers want: new
 * streams are subscribed at once; streams nobody wants any more are dropped after a linger, so
 * an SSE client that reconnects within seconds does not cost an unsub/sub round trip (and a
 * hole in the stream).
 */
import { type Clock, systemClock, type TimerHandle } from '../clock.js';
import type { DdpClient, DdpSubscription } from '../ddp/index.js';
import { ddpSubscriptionParams, type UpstreamStream } from '../rocketchat/streams.js';

interface Entry {
  readonly stream: UpstreamStream;
  subscription: DdpSubscription | undefined;
  subscribing: Promise<void> | undefined;
  lingerTimer: TimerHandle | undefined;
  /** The refusal, when Rocket.Chat answered `nosub` with an error (e.g. `not-allowed`). */
  refusal: Error | undefined;
}

export interface UpstreamSubscriptionsOptions {
  readonly client: DdpClient;
  readonly lingerMs: number;
  /** @defaultValue systemClock */
  readonly clock?: Clock;
  readonly onRefused?: (stream: UpstreamStream, error: Error) => void;
}

export class UpstreamSubscriptions {
  readonly #client: DdpClient;
  readonly #lingerMs: number;
  readonly #clock: Clock;
  readonly #onRefused: ((stream: UpstreamStream, error: Error) => void) | undefined;
  readonly #entries = new Map<string, Entry>();

  constructor(options: UpstreamSubscriptionsOptions) {
    this.#client = options.client;
    this.#lingerMs = options.lingerMs;
    this.#clock = options.clock ?? systemClock;
    this.#onRefused = options.onRefused;
  }

  /** Makes the subscribed set equal to `wanted`; resolves when new ones are ready or refused. */
  async reconcile(wanted: readonly UpstreamStream[]): Promise<void> {
    const wantedKeys = new Set<string>();
    const pending: Promise<void>[] = [];
    for (const stream of wanted) {
      wantedKeys.add(stream.key);
      let entry = this.#entries.get(stream.key);
      if (entry?.lingerTimer) {
        this.#clock.clearTimeout(entry.lingerTimer);
        entry.lingerTimer = undefined;
      }
      if (entry?.refusal) this.#entries.delete(stream.key);
      entry = this.#entries.get(stream.key);
      if (!entry) {
        entry = {
          stream,
          subscription: undefined,
          subscribing: undefined,
          lingerTimer: undefined,
          refusal: undefined,
        };
        this.#entries.set(stream.key, entry);
        entry.subscribing = this.#subscribe(entry);
      }
      if (entry.subscribing) pending.push(entry.subscribing);
    }
    for (const [key, entry] of this.#entries) {
      if (wantedKeys.has(key) || entry.lingerTimer) continue;
      entry.lingerTimer = this.#clock.setTimeout(() => this.#drop(key), this.#lingerMs);
      entry.lingerTimer.unref();
    }
    await Promise.all(pending);
  }

  /** Why a stream was refused, if it was (used to answer 403 for a room the user cannot read). */
  refusalOf(key: string): Error | undefined {
    return this.#entries.get(key)?.refusal;
  }

  isActive(key: string): boolean {
    const entry = this.#entries.get(key);
    return entry !== undefined && entry.subscription !== undefined;
  }

  /** Forgets a subscription the server ended, so the next reconcile subscribes it again. */
  forget(subscriptionId: string): void {
    for (const [key, entry] of this.#entries) {
      if (entry.subscription?.id !== subscriptionId) continue;
      // Its linger timer must go too: left running, it would drop the entry a later reconcile
      // creates under the same key, and stop that live subscription.
      this.#clock.clearTimeout(entry.lingerTimer);
      this.#entries.delete(key);
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  close(): void {
    for (const entry of this.#entries.values()) this.#clock.clearTimeout(entry.lingerTimer);
    this.#entries.clear();
  }

  async #subscribe(entry: Entry): Promise<void> {
    try {
      entry.subscription = await this.#client.subscribe(
        entry.stream.name,
        ddpSubscriptionParams(entry.stream),
      );
      // Dropped (linger ran out) or closed while the sub was in flight: nobody will stop it later.
      if (this.#entries.get(entry.stream.key) !== entry) entry.subscription.stop();
    } catch (err) {
      entry.refusal = err as Error;
      this.#onRefused?.(entry.stream, err as Error);
    } finally {
      entry.subscribing = undefined;
    }
  }

  #drop(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    entry.subscription?.stop();
  }
}
