/**
 * Keeps the user's session subscribed to `<uid>/message` while the user sends: Rocket.Chat
 * reports most refused sends only there, as an ephemeral rocket.cat message
 * (docs/simulator-protocol.md §4), and streams are not replayed, so the subscription must exist before
 * the send. The outbound queue is registered as an expiring consumer of the `user` topic (the
 * topic that carries ephemeral messages and `outbound.*` events), refreshed while sends go on.
 */
import type { ConsumerRegistry } from '../sessions/consumer-registry.js';
import type { SessionPool } from '../sessions/session-pool.js';

/** The consumer id of the outbound queue in every user's registry. */
export const OUTBOUND_CONSUMER_ID = 'outbound';

export interface EphemeralWatchOptions {
  readonly consumers: ConsumerRegistry;
  /** A session held by this process is told at once instead of at the pool's next reconcile. */
  readonly pool?: SessionPool;
  /** How long the registration lasts without sends. @defaultValue 600000 (10 min) */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/** Users remembered as registered; past this the oldest are forgotten (and simply re-registered). */
const MAX_REMEMBERED = 10_000;

export class EphemeralWatch {
  readonly #options: EphemeralWatchOptions;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #registeredAt = new Map<string, number>();

  constructor(options: EphemeralWatchOptions) {
    this.#options = options;
    this.#ttlMs = options.ttlMs ?? 600_000;
    this.#now = options.now ?? Date.now;
  }

  /** Registers (at most once per fifth of the TTL per user) and applies the topic to a local session. */
  async ensure(userId: string): Promise<void> {
    const now = this.#now();
    const last = this.#registeredAt.get(userId);
    if (last !== undefined && now - last < this.#ttlMs / 5) return;
    this.#registeredAt.delete(userId);
    this.#registeredAt.set(userId, now);
    if (this.#registeredAt.size > MAX_REMEMBERED) {
      const oldest = this.#registeredAt.keys().next().value;
      if (oldest !== undefined) this.#registeredAt.delete(oldest);
    }
    const { consumers, pool } = this.#options;
    await consumers.register(userId, OUTBOUND_CONSUMER_ID, [{ kind: 'user' }], { ttlMs: this.#ttlMs });
    const session = pool?.session(userId);
    if (session && !session.topics.some((topic) => topic.kind === 'user')) {
      await session.setTopics(await consumers.wantedTopics(userId));
    }
  }
}
