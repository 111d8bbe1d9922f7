/**
 * The REST rate limit: at most `RATE_LIMIT_PER_MINUTE` requests per caller, counted in Redis so
 * that the limit holds across every api replica (a per-process counter would multiply it by the
 * replica count and reset on every deploy).
 *
 * The window slides (Cloudflare's "sliding window counter"): the count is the current fixed
 * window plus the previous one weighted by the share of it still inside the last minute. Two
 * integers per caller, one round trip, and no burst of twice the limit across a window boundary
 * as a plain fixed window allows. Refused requests are not counted, so a client that keeps
 * retrying too early is let in as soon as its `Retry-After` has passed.
 *
 * Callers are counted by their principal (the user id of a verified token), or by their address
 * before authentication (`POST /v1/sessions`) or on public routes (`/hooks/{id}/{token}`). The
 * answer to a refused request is 429 `GW_ERR_RATE_LIMITED` with `Retry-After`; every counted
 * response carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
 * (draft-ietf-httpapi-ratelimit-headers, as express-rate-limit's `draft-6` sends them).
 */
import { createHash } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { type Clock, systemClock } from '../clock.js';
import { createError } from '../errors.js';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import { LuaScript } from '../redis/lua-script.js';
import { clockOf, type HttpContext } from './context.js';

/** One minute: `RATE_LIMIT_PER_MINUTE` is per minute. */
export const DEFAULT_RATE_LIMIT_WINDOW_MS = 60_000;

/** What counting one request decided. */
export interface RateLimitDecision {
  readonly isAllowed: boolean;
  readonly limit: number;
  /** Requests still allowed now (0 when refused). */
  readonly remaining: number;
  /** Milliseconds until the current fixed window closes. */
  readonly resetMs: number;
  /** When refused: milliseconds until one more request would be allowed; 0 when allowed. */
  readonly retryAfterMs: number;
}

export interface RedisRateLimiterOptions {
  readonly redis: RedisClient;
  readonly keys: GatewayKeys;
  /** Requests allowed per window. */
  readonly limit: number;
  /** @defaultValue 60000 (one minute) */
  readonly windowMs?: number;
  /** Where window boundaries come from. @defaultValue systemClock */
  readonly clock?: Clock;
}

// KEYS, ARGV and reply: see the header of the file.
const CONSUME_SCRIPT = LuaScript.fromFile(import.meta.url, './rate-limit/consume.lua', 2);

/** Counts requests per subject in Redis; see the file comment for the algorithm. */
export class RedisRateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly #redis: RedisClient;
  readonly #keys: GatewayKeys;
  readonly #clock: Clock;

  constructor(options: RedisRateLimiterOptions) {
    const windowMs = options.windowMs ?? DEFAULT_RATE_LIMIT_WINDOW_MS;
    if (!Number.isSafeInteger(options.limit) || options.limit < 1) {
      throw new RangeError(`limit must be a positive integer (got ${options.limit})`);
    }
    if (!Number.isSafeInteger(windowMs) || windowMs < 1) {
      throw new RangeError(`windowMs must be a positive integer (got ${windowMs})`);
    }
    this.limit = options.limit;
    this.windowMs = windowMs;
    this.#redis = options.redis;
    this.#keys = options.keys;
    this.#clock = options.clock ?? systemClock;
  }

  /** Counts one request by `subject` if the limit allows it. */
  async consume(subject: string): Promise<RateLimitDecision> {
    const { limit, windowMs } = this;
    const now = this.#clock.now();
    const windowIndex = Math.floor(now / windowMs);
    const elapsedMs = now - windowIndex * windowMs;
    const safeSubject = toSafeSubject(subject);
    const keys = [
      this.#keys.rateLimitWindow(safeSubject, windowIndex),
      this.#keys.rateLimitWindow(safeSubject, Math.max(0, windowIndex - 1)),
    ];
    const reply = await this.#run(keys, [limit, windowMs, elapsedMs]);
    const [allowed, current, previous] = parseReply(reply);
    const resetMs = windowMs - elapsedMs;
    if (allowed) {
      const used = weightedPrevious(previous, windowMs, elapsedMs) + current;
      return { isAllowed: true, limit, remaining: Math.max(0, limit - used), resetMs, retryAfterMs: 0 };
    }
    const retryAfterMs = slidingWindowRetryAfterMs({ previous, current, limit, windowMs, elapsedMs });
    return { isAllowed: false, limit, remaining: 0, resetMs, retryAfterMs };
  }

  // By SHA (see lua-script.ts): this runs on every request, and the script need not travel each time.
  #run(keys: readonly string[], args: readonly number[]): Promise<unknown> {
    return CONSUME_SCRIPT.run(this.#redis, keys, args);
  }
}

function parseReply(reply: unknown): [boolean, number, number] {
  if (!Array.isArray(reply) || reply.length !== 3 || !reply.every((n) => typeof n === 'number')) {
    throw new TypeError('unexpected reply from the rate limit script');
  }
  return [reply[0] === 1, reply[1] as number, reply[2] as number];
}

/** The previous window's count, weighted by how much of it the sliding window still covers. */
function weightedPrevious(previous: number, windowMs: number, elapsedMs: number): number {
  return Math.floor((previous * (windowMs - elapsedMs)) / windowMs);
}

export interface SlidingWindowState {
  /** Requests counted in the previous fixed window. */
  readonly previous: number;
  /** Requests counted in the current fixed window. */
  readonly current: number;
  readonly limit: number;
  readonly windowMs: number;
  /** Milliseconds since the current fixed window opened. */
  readonly elapsedMs: number;
}

/**
 * Milliseconds until a refused caller may send one more request, assuming it sends nothing
 * meanwhile (refused requests are not counted). At least 1.
 *
 * Within this window a request is allowed at elapsed time `e` once
 * `floor(previous * (W - e) / W) + current < limit`, i.e. `e > W - (limit - current) * W / previous`.
 * When the current window alone is full, the wait runs into the next window, where the current
 * count becomes the previous one: `e' > W - limit * W / current`.
 */
export function slidingWindowRetryAfterMs(state: SlidingWindowState): number {
  const { previous, current, limit, windowMs, elapsedMs } = state;
  const untilWindowEnds = windowMs - elapsedMs;
  if (current < limit) {
    if (previous === 0) return 1;
    const allowedAt = Math.floor(windowMs - ((limit - current) * windowMs) / previous) + 1;
    return Math.max(1, Math.min(allowedAt - elapsedMs, untilWindowEnds));
  }
  const allowedAtNext = Math.floor(windowMs - (limit * windowMs) / current) + 1;
  return Math.max(1, untilWindowEnds + Math.max(0, allowedAtNext));
}

// Subjects come from tokens and sockets, but a custom `subjectOf` may take them from a URL: an
// odd one is hashed, so no input can shape a key or break its hash tag (and so slip the limit).
const SAFE_SUBJECT = /^[A-Za-z0-9_.:@-]{1,160}$/;

export function toSafeSubject(subject: string): string {
  if (SAFE_SUBJECT.test(subject)) return subject;
  return `h:${createHash('sha256').update(subject).digest('base64url')}`;
}

export interface RateLimitOptions {
  /**
   * Names the policy; different policies never share counters (`api` per user, `login` per
   * address...). Letters, digits, `_`, `-`. @defaultValue 'api'
   */
  readonly policy?: string;
  /** Requests per window. @defaultValue `RATE_LIMIT_PER_MINUTE` (config.http.rateLimitPerMinute) */
  readonly limit?: number;
  /** @defaultValue 60000 (one minute) */
  readonly windowMs?: number;
  /**
   * Who a request counts against. @defaultValue `user:<id>` of the principal set by
   * `authenticate`, else `ip:<address>` (`req.ip`: set Express' `trust proxy` behind an ingress).
   */
  readonly subjectOf?: (req: Request) => string;
}

/** The parts of the context the rate limit uses. */
export type RateLimitContext = Pick<HttpContext, 'redis' | 'keys' | 'config' | 'logger' | 'clock'>;

// A down Redis fails every request for a while: one warning per interval is enough.
const FAILURE_LOG_INTERVAL_MS = 5000;

/**
 * Middleware that counts the request and refuses it with 429 `GW_ERR_RATE_LIMITED` and
 * `Retry-After` over the limit. Put it after `authenticate` so requests count against the
 * principal. When Redis cannot be asked it lets the request through (and logs): refusing
 * everything would turn a Redis blip into an outage of routes that may not need Redis.
 */
export function createRateLimit(ctx: RateLimitContext, options: RateLimitOptions = {}): RequestHandler {
  const policy = options.policy ?? 'api';
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(policy))
    throw new RangeError(`invalid rate limit policy name: ${policy}`);
  const clock = clockOf(ctx);
  const limiter = new RedisRateLimiter({
    redis: ctx.redis,
    keys: ctx.keys,
    limit: options.limit ?? ctx.config.http.rateLimitPerMinute,
    windowMs: options.windowMs ?? DEFAULT_RATE_LIMIT_WINDOW_MS,
    clock,
  });
  const subjectOf = options.subjectOf ?? defaultSubject;
  const perText = limiter.windowMs === 60_000 ? 'per minute' : `per ${limiter.windowMs} ms`;
  let lastFailureLogMs = Number.NEGATIVE_INFINITY;

  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    let decision: RateLimitDecision;
    try {
      decision = await limiter.consume(`${policy}:${subjectOf(req)}`);
    } catch (err) {
      const now = clock.now();
      if (now - lastFailureLogMs >= FAILURE_LOG_INTERVAL_MS) {
        lastFailureLogMs = now;
        ctx.logger.warn(
          { err, requestId: req.requestId, policy },
          'rate limit unavailable; request let through',
        );
      }
      next();
      return;
    }
    res.setHeader('RateLimit-Limit', String(decision.limit));
    res.setHeader('RateLimit-Remaining', String(decision.remaining));
    res.setHeader('RateLimit-Reset', String(Math.ceil(decision.resetMs / 1000)));
    if (decision.isAllowed) {
      next();
      return;
    }
    next(
      createError(
        'GW_ERR_RATE_LIMITED',
        `At most ${decision.limit} requests ${perText}; retry after ${Math.ceil(decision.retryAfterMs / 1000)} s`,
        { retryAfterMs: decision.retryAfterMs },
      ),
    );
  };
}

function defaultSubject(req: Request): string {
  if (req.principal) return `user:${req.principal.userId}`;
  return `ip:${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`;
}

/**
 * One handler that runs `first` (typically `createHttpAuth(ctx).authenticate()`) and then `second` (the rate
 * limit), for places that take a single handler, such as `createEventsRouter({ authenticate })`.
 */
export function chainHandlers(first: RequestHandler, second: RequestHandler): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const afterFirst = (err?: unknown): void => {
      // Anything truthy (an error, or Express' 'route'/'router' skips) goes on as it came.
      if (err) {
        next(err);
        return;
      }
      Promise.resolve(second(req, res, next)).catch(next);
    };
    Promise.resolve(first(req, res, afterFirst)).catch(next);
  };
}
