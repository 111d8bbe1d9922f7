/**
 * Failed logins, counted in Redis per client address and per account tried, so that guessing
 * passwords is slow and one attacker cannot spend Rocket.Chat's own login limit, which counts per
 * client address and sees the whole gateway as one (issue 17: 100 wrong passwords for one user
 * locked every user out for a minute).
 *
 * Only failures count: a busy address that logs in correctly is never refused. A subject that
 * reached its limit is refused before Rocket.Chat is asked, until the sliding window (the same
 * counter as rate-limit.ts: current fixed window plus the previous one, weighted) lets one more
 * attempt in. The per-account limit counts from any address, so spreading guesses over many
 * addresses does not help; it can lock one account's password login for the window, which is
 * the price every lockout pays, and leaves every other account alone.
 */
import type { Request } from 'express';
import { type Clock, systemClock } from '../clock.js';
import type { LoginFailureLimits } from '../config/index.js';
import { createError } from '../errors.js';
import type { Logger } from '../log/index.js';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import { slidingWindowRetryAfterMs, toSafeSubject } from './rate-limit.js';

/** Who a login attempt counts against. */
export interface LoginAttempt {
  /** The client address (`req.ip`). */
  readonly address: string;
  /** The username, e-mail address or user id tried; absent when none is known. */
  readonly account?: string;
}

export interface LoginThrottleOptions {
  readonly redis: RedisClient;
  readonly keys: GatewayKeys;
  readonly limits: LoginFailureLimits;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

interface Counter {
  readonly subject: string;
  readonly limit: number;
}

export class LoginThrottle {
  readonly #options: LoginThrottleOptions;
  readonly #clock: Clock;

  constructor(options: LoginThrottleOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Refuses an attempt whose address or account failed too often.
   * @throws GatewayError `GW_ERR_RATE_LIMITED` with `retryAfterMs`.
   */
  async check(attempt: LoginAttempt): Promise<void> {
    const { windowMs } = this.#options.limits;
    const now = this.#clock.now();
    const windowIndex = Math.floor(now / windowMs);
    const elapsedMs = now - windowIndex * windowMs;
    let retryAfterMs = 0;
    for (const { subject, limit } of this.#counters(attempt)) {
      let counts: [number, number];
      try {
        counts = await this.#read(subject, windowIndex);
      } catch (err) {
        // As the request rate limit: a Redis blip must not lock everybody out.
        this.#options.logger?.warn({ err }, 'login throttle unavailable; attempt let through');
        return;
      }
      const [current, previous] = counts;
      const used = Math.floor((previous * (windowMs - elapsedMs)) / windowMs) + current;
      if (used >= limit) {
        const wait = slidingWindowRetryAfterMs({ previous, current, limit, windowMs, elapsedMs });
        retryAfterMs = Math.max(retryAfterMs, wait);
      }
    }
    if (retryAfterMs > 0) {
      throw createError(
        'GW_ERR_RATE_LIMITED',
        `Too many failed logins; retry after ${Math.ceil(retryAfterMs / 1000)} s`,
        { retryAfterMs },
      );
    }
  }

  /** Counts one failed attempt against its address and account. */
  async recordFailure(attempt: LoginAttempt): Promise<void> {
    const { redis, keys, limits } = this.#options;
    const windowIndex = Math.floor(this.#clock.now() / limits.windowMs);
    try {
      for (const { subject } of this.#counters(attempt)) {
        const key = keys.rateLimitWindow(subject, windowIndex);
        // One subject per MULTI: each subject has its own hash tag (Cluster slot).
        await redis
          .multi()
          .incr(key)
          .pexpire(key, limits.windowMs * 2)
          .exec();
      }
    } catch (err) {
      this.#options.logger?.warn({ err }, 'login failure not counted');
    }
  }

  #counters(attempt: LoginAttempt): Counter[] {
    const { perAddress, perUser } = this.#options.limits;
    const counters = [{ subject: toSafeSubject(`loginfail:ip:${attempt.address}`), limit: perAddress }];
    if (attempt.account !== undefined) {
      // Rocket.Chat usernames and e-mail addresses match case-insensitively.
      const account = attempt.account.trim().toLowerCase();
      counters.push({ subject: toSafeSubject(`loginfail:user:${account}`), limit: perUser });
    }
    return counters;
  }

  async #read(subject: string, windowIndex: number): Promise<[number, number]> {
    const { redis, keys } = this.#options;
    const [current, previous] = await redis.mget(
      keys.rateLimitWindow(subject, windowIndex),
      keys.rateLimitWindow(subject, Math.max(0, windowIndex - 1)),
    );
    return [Number(current ?? 0), Number(previous ?? 0)];
  }
}

/** The caller's address as counted and forwarded: `req.ip`, IPv4-mapped IPv6 written as IPv4. */
export function clientAddressOf(req: Request): string {
  const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
