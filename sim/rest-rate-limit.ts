/**
 * REST rate limiting (RC api.ts `enforceRateLimit`): one Meteor RateLimiter rule per route, keyed
 * by client IP (or user, see `RestRateLimitOptions.key`). Every limited response carries
 * `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (epoch ms); an exhausted
 * window answers 429 `{"success":false,"error":"Error, too many requests. ... [error-too-many-requests]"}`.
 */
import type { ResolvedOptions, RestRateLimitRule } from './options.js';
import { RateLimiter } from './rate-limiter.js';

export interface RestLimitOutcome {
  headers: Record<string, string>;
  /** Set when the call is refused. */
  tooManyRequests?: { timeToReset: number; seconds: number };
}

export class RestRateLimits {
  private readonly limiters = new Map<string, { limiter: RateLimiter; rule: RestRateLimitRule }>();

  constructor(private readonly options: ResolvedOptions['restRateLimit']) {}

  /** Counts one call of `route` (e.g. `chat.syncMessages`) with HTTP `method`. */
  check(route: string, method: string, ip: string, userId: string | undefined): RestLimitOutcome | undefined {
    const options = this.options;
    if (options === false) {
      return undefined;
    }
    const override = options.endpoints[route];
    if (override === false) {
      return undefined;
    }
    const rule = override ?? { calls: options.calls, windowMs: options.windowMs };
    const routeKey = `/api/v1/${route}${method.toLowerCase()}`;
    let entry = this.limiters.get(routeKey);
    if (!entry) {
      entry = {
        rule,
        limiter: new RateLimiter([
          {
            id: routeKey,
            limit: rule.calls,
            intervalMs: rule.windowMs,
            matches: () => true,
            key: (input) =>
              options.key === 'user' && input.userId ? `u:${input.userId}` : `ip:${input.clientAddress}`,
          },
        ]),
      };
      this.limiters.set(routeKey, entry);
    }
    const reply = entry.limiter.consume({
      type: 'rest',
      name: routeKey,
      userId: userId ?? null,
      connectionId: '',
      clientAddress: ip,
    });
    const headers = {
      'X-RateLimit-Limit': String(entry.rule.calls),
      'X-RateLimit-Remaining': String(reply.allowed ? reply.remaining : 0),
      'X-RateLimit-Reset': String(Date.now() + reply.timeToReset),
    };
    if (reply.allowed) {
      return { headers };
    }
    return {
      headers,
      tooManyRequests: { timeToReset: reply.timeToReset, seconds: Math.ceil(reply.timeToReset / 1000) },
    };
  }
}
