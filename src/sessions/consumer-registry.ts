/**
 * Who needs a user's upstream session, recorded in Redis so any worker can act on it: SSE
 * connections on any replica (expiring unless refreshed, so a dead replica's consumers fade),
 * webhooks (durable: they keep the session alive across restarts of every process) and pending
 * calls. A worker taking over a session reads the topics from here to know what to subscribe.
 */

import { type Clock, systemClock } from '../clock.js';
import { formatTopic, parseTopics, type Topic } from '../events/topics.js';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import { ControlPublisher } from './control-plane.js';

export interface ConsumerRegistryOptions {
  readonly redis: RedisClient;
  readonly keys: GatewayKeys;
  /** Consumer expiry times. @defaultValue systemClock */
  readonly clock?: Clock;
}

/** `ttlMs: 'durable'` for consumers that must survive every process (webhooks). */
export type ConsumerLifetime = { readonly ttlMs: number } | 'durable';

export class ConsumerRegistry {
  readonly #redis: RedisClient;
  readonly #keys: GatewayKeys;
  readonly #clock: Clock;
  readonly #control: ControlPublisher;

  constructor(options: ConsumerRegistryOptions) {
    this.#redis = options.redis;
    this.#keys = options.keys;
    this.#clock = options.clock ?? systemClock;
    this.#control = new ControlPublisher(options.redis, options.keys);
  }

  /** Registers (or refreshes) a consumer and wakes the workers if the user needs a session. */
  async register(
    userId: string,
    consumerId: string,
    topics: readonly Topic[],
    lifetime: ConsumerLifetime,
  ): Promise<void> {
    const keys = this.#keys.user(userId);
    const expiry = lifetime === 'durable' ? '+inf' : String(this.#clock.now() + lifetime.ttlMs);
    const topicStrings = topics.map(formatTopic);
    // Two round trips, not four: the writes together, then the notices together. Whoever hears a
    // notice reads what the writes wrote, so the notices wait for both writes (on a Cluster they
    // may live on other nodes, which keep no order between them).
    const [written] = await Promise.all([
      this.#redis
        .multi()
        .zadd(keys.consumers, expiry, consumerId)
        .hset(keys.consumerTopics, consumerId, JSON.stringify(topicStrings))
        .exec(),
      // Global (not hash-tagged) key: a separate command, so a Cluster never sees a cross-slot MULTI.
      this.#redis.zadd(this.#keys.wantedUsers, 'GT', expiry, userId),
    ]);
    // A consumer seen for the first time (ZADD counted it) only adds its topics: the holder need
    // not read every consumer of the user again to learn that. One registered again may have
    // changed its topics (a webhook updated) and gets the plain notice.
    const isNew = written?.[0]?.[1] === 1;
    await Promise.all([
      this.#control.wanted(userId),
      isNew
        ? this.#control.consumerAdded(userId, topicStrings)
        : this.#control.userNotice(userId, 'consumers-changed'),
    ]);
  }

  /** Extends the life of expiring consumers (one round trip for many). */
  async refresh(userId: string, consumerIds: readonly string[], ttlMs: number): Promise<void> {
    if (consumerIds.length === 0) return;
    const expiry = this.#clock.now() + ttlMs;
    const keys = this.#keys.user(userId);
    const args = consumerIds.flatMap((id) => [expiry, id]);
    await this.#redis.zadd(keys.consumers, 'XX', 'GT', ...args);
    await this.#redis.zadd(this.#keys.wantedUsers, 'GT', expiry, userId);
  }

  async unregister(userId: string, consumerId: string): Promise<void> {
    const keys = this.#keys.user(userId);
    await this.#redis.multi().zrem(keys.consumers, consumerId).hdel(keys.consumerTopics, consumerId).exec();
    // The user stays wanted until its longest-lived remaining consumer expires.
    const longest = await this.#redis.zrevrange(keys.consumers, 0, 0, 'WITHSCORES');
    if (longest.length === 2) await this.#redis.zadd(this.#keys.wantedUsers, longest[1]!, userId);
    else await this.#redis.zrem(this.#keys.wantedUsers, userId);
    await this.#control.userNotice(userId, 'consumers-changed');
  }

  /** The union of topics wanted by the user's live consumers; empty when nobody needs the session. */
  async wantedTopics(userId: string): Promise<Topic[]> {
    const keys = this.#keys.user(userId);
    const now = this.#clock.now();
    const live = await this.#redis.zrangebyscore(keys.consumers, now, '+inf');
    // Expired consumers are swept here, by whichever worker looks: no separate janitor.
    await this.#sweep(userId, now);
    if (live.length === 0) return [];
    const lists = await this.#redis.hmget(keys.consumerTopics, ...live);
    const seen = new Set<string>();
    for (const list of lists) {
      if (!list) continue;
      for (const topic of JSON.parse(list) as string[]) seen.add(topic);
    }
    return seen.size === 0 ? [] : [...parseTopics([...seen])];
  }

  /** Users with at least one consumer that has not expired. */
  async wantedUsers(): Promise<string[]> {
    const now = this.#clock.now();
    await this.#redis.zremrangebyscore(this.#keys.wantedUsers, '-inf', `(${now}`);
    return this.#redis.zrangebyscore(this.#keys.wantedUsers, now, '+inf');
  }

  async #sweep(userId: string, now: number): Promise<void> {
    const keys = this.#keys.user(userId);
    const expired = await this.#redis.zrangebyscore(keys.consumers, '-inf', `(${now}`);
    if (expired.length === 0) return;
    await this.#redis
      .multi()
      .zremrangebyscore(keys.consumers, '-inf', `(${now}`)
      .hdel(keys.consumerTopics, ...expired)
      .exec();
  }
}
