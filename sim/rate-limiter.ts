/**
 * Meteor's `rate-limit` package semantics, used for DDP (ddp-rate-limiter) and REST (RC api.ts).
 *
 * Each rule has one window shared by all its keys: the window starts when the rule is created (or
 * last reset) and every counter of the rule resets when it elapses. A call is counted first and
 * then checked, so the (limit + 1)th call in a window is refused, and refused calls count too.
 */

export interface RateLimitInput {
  type: 'method' | 'subscription' | 'rest';
  name: string;
  userId: string | null;
  connectionId: string;
  clientAddress: string;
}

export interface RateLimitRuleSpec {
  /** For logs and tests. */
  id: string;
  limit: number;
  intervalMs: number;
  matches(input: RateLimitInput): boolean;
  /** Counter key within the rule (Meteor concatenates the matcher fields). */
  key(input: RateLimitInput): string;
}

export interface RateLimitReply {
  allowed: boolean;
  /** Milliseconds until the tightest matching window resets. */
  timeToReset: number;
  /** Calls left in the tightest window (Infinity when no rule matched). */
  remaining: number;
  /** The limit of the tightest matching rule, if any. */
  limit?: number;
}

class Rule {
  private counters = new Map<string, number>();
  private lastReset: number;

  constructor(
    readonly spec: RateLimitRuleSpec,
    private readonly now: () => number,
  ) {
    this.lastReset = now();
  }

  /** Increments the counter and returns the count and the time left in the window. */
  hit(input: RateLimitInput): { count: number; timeToReset: number } {
    const now = this.now();
    if (now - this.lastReset > this.spec.intervalMs) {
      this.counters = new Map();
      this.lastReset = now;
    }
    const key = this.spec.key(input);
    const count = (this.counters.get(key) ?? 0) + 1;
    this.counters.set(key, count);
    return { count, timeToReset: this.spec.intervalMs - (now - this.lastReset) };
  }
}

export class RateLimiter {
  private readonly rules: Rule[];

  constructor(specs: readonly RateLimitRuleSpec[], now: () => number = Date.now) {
    this.rules = specs.map((spec) => new Rule(spec, now));
  }

  consume(input: RateLimitInput): RateLimitReply {
    const reply: RateLimitReply = { allowed: true, timeToReset: 0, remaining: Number.POSITIVE_INFINITY };
    for (const rule of this.rules) {
      if (!rule.spec.matches(input)) {
        continue;
      }
      const { count, timeToReset } = rule.hit(input);
      if (count > rule.spec.limit) {
        if (reply.allowed || timeToReset > reply.timeToReset) {
          reply.timeToReset = timeToReset;
        }
        reply.allowed = false;
        reply.remaining = 0;
        reply.limit = rule.spec.limit;
      } else if (reply.allowed && rule.spec.limit - count < reply.remaining) {
        reply.remaining = rule.spec.limit - count;
        reply.timeToReset = timeToReset;
        reply.limit = rule.spec.limit;
      }
    }
    return reply;
  }
}

/**
 * Names registered with a string matcher get no generic per-method rule (RC rateLimiter.ts `names`).
 * Meteor's accounts rule matches names with a function, so `login` keeps the generic rules too.
 */
const SPECIFIC_RULE_NAMES = new Set(['sendMessage']);
const ACCOUNT_METHODS = new Set(['login', 'createUser', 'resetPassword', 'forgotPassword']);

function isLoopback(address: string): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

/**
 * Rocket.Chat's default DDP rules (settings `DDP_Rate_Limit_*`, RC apps/meteor/server/settings/rate.ts,
 * app/lib/server/startup/rateLimiter.ts) plus Meteor's accounts rule and RC's sendMessage rule.
 * Stream methods/publications (`stream-*`) get the per-method rules with calls and window ×4.
 */
export function defaultDdpRules(): RateLimitRuleSpec[] {
  const isStream = (name: string): boolean => name.startsWith('stream-');
  const generic = (name: string): boolean => !SPECIFIC_RULE_NAMES.has(name);
  return [
    {
      id: 'accounts-login',
      limit: 5,
      intervalMs: 10_000,
      matches: (i) => i.type === 'method' && ACCOUNT_METHODS.has(i.name),
      key: (i) => `${i.type}|${i.name}|${i.connectionId}`,
    },
    {
      // RC: 5 messages / second per user lacking `send-many-messages`.
      id: 'sendMessage',
      limit: 5,
      intervalMs: 1_000,
      matches: (i) => i.type === 'method' && i.name === 'sendMessage' && i.userId !== null,
      key: (i) => `${i.name}|${i.userId}`,
    },
    {
      id: 'IP',
      limit: 120_000,
      intervalMs: 60_000,
      matches: (i) => !isLoopback(i.clientAddress),
      key: (i) => i.clientAddress,
    },
    {
      id: 'User',
      limit: 1200,
      intervalMs: 60_000,
      matches: (i) => i.userId !== null,
      key: (i) => `${i.userId}`,
    },
    { id: 'Connection', limit: 600, intervalMs: 60_000, matches: () => true, key: (i) => i.connectionId },
    {
      id: 'User_By_Method',
      limit: 20,
      intervalMs: 10_000,
      matches: (i) => i.userId !== null && generic(i.name) && !isStream(i.name),
      key: (i) => `${i.type}|${i.name}|${i.userId}`,
    },
    {
      id: 'User_By_Method_stream',
      limit: 80,
      intervalMs: 40_000,
      matches: (i) => i.userId !== null && generic(i.name) && isStream(i.name),
      key: (i) => `${i.type}|${i.name}|${i.userId}`,
    },
    {
      id: 'Connection_By_Method',
      limit: 10,
      intervalMs: 10_000,
      matches: (i) => generic(i.name) && !isStream(i.name),
      key: (i) => `${i.type}|${i.name}|${i.connectionId}`,
    },
    {
      id: 'Connection_By_Method_stream',
      limit: 40,
      intervalMs: 40_000,
      matches: (i) => generic(i.name) && isStream(i.name),
      key: (i) => `${i.type}|${i.name}|${i.connectionId}`,
    },
  ];
}

/** DDP limiter: the default rules (when enabled) plus faults forced through the control API. */
export class DdpRateLimiter {
  private readonly limiter: RateLimiter | undefined;
  private readonly forced = new Map<string, { remaining: number; timeToResetMs: number }>();

  constructor(enabled: boolean, now: () => number = Date.now) {
    this.limiter = enabled ? new RateLimiter(defaultDdpRules(), now) : undefined;
  }

  /** The next `count` calls (methods or subscriptions) named `name`, from anyone, are refused. */
  force(name: string, count: number, timeToResetMs: number): void {
    this.forced.set(name, { remaining: count, timeToResetMs });
  }

  consume(input: RateLimitInput): RateLimitReply {
    const forced = this.forced.get(input.name);
    if (forced && forced.remaining > 0) {
      forced.remaining -= 1;
      if (forced.remaining === 0) {
        this.forced.delete(input.name);
      }
      return { allowed: false, timeToReset: forced.timeToResetMs, remaining: 0 };
    }
    return (
      this.limiter?.consume(input) ?? { allowed: true, timeToReset: 0, remaining: Number.POSITIVE_INFINITY }
    );
  }
}
