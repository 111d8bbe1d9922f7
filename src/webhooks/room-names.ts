/**
 * Room names for `channel_name` in `rocketchat` bodies. A message event carries only the room
 * id, so the name is asked of Rocket.Chat (`getRoomNameById`, as the owner) and kept for a while:
 * names change rarely, and a delivery must not cost a Rocket.Chat call each. Best effort: when
 * Rocket.Chat cannot say (a direct message has no name; the session is down), the field is left
 * out, as Rocket.Chat itself does for rooms without a name.
 */
import { type Clock, systemClock } from '../clock.js';
import type { CallRouter } from '../sessions/call-router.js';

export interface RoomNameCacheOptions {
  readonly calls: Pick<CallRouter, 'call'>;
  /** How long a name (or its absence) is kept. @defaultValue 300000 (5 min) */
  readonly ttlMs?: number;
  /** Names kept at most. @defaultValue 10000 */
  readonly maxEntries?: number;
  /** One Rocket.Chat call. @defaultValue 5000 */
  readonly callTimeoutMs?: number;
  readonly clock?: Clock;
}

export class RoomNameCache {
  readonly #options: RoomNameCacheOptions;
  readonly #clock: Clock;
  readonly #entries = new Map<string, { name: string | undefined; untilMs: number }>();

  constructor(options: RoomNameCacheOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** The room's name as the user sees it, or undefined. Never throws. */
  readonly lookup = async (userId: string, roomId: string): Promise<string | undefined> => {
    // Per user: a name is only known to those who may read the room.
    const key = `${userId}\n${roomId}`;
    const now = this.#clock.now();
    const cached = this.#entries.get(key);
    if (cached && cached.untilMs > now) return cached.name;
    let name: string | undefined;
    try {
      const result = await this.#options.calls.call(
        userId,
        'getRoomNameById',
        [roomId],
        this.#options.callTimeoutMs ?? 5000,
      );
      name = typeof result === 'string' && result !== '' ? result : undefined;
    } catch {
      // Unknown for now: the next delivery asks again once the entry expires.
      name = undefined;
    }
    if (this.#entries.size >= (this.#options.maxEntries ?? 10_000)) this.#entries.clear();
    this.#entries.set(key, { name, untilMs: now + (this.#options.ttlMs ?? 300_000) });
    return name;
  };
}
