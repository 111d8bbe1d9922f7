/**
 * Simulator options and their defaults.
 */
import { type Flavor, isFlavor } from './flavor.js';

export interface RestRateLimitRule {
  calls: number;
  windowMs: number;
}

export interface RestRateLimitOptions extends RestRateLimitRule {
  /**
   * What a counter is keyed by, besides the route. Rocket.Chat keys by client IP and route
   * (RC api.ts `{IPAddr, route}`), so every user behind one gateway shares one budget per endpoint.
   * `'user'` keys by user id instead (anonymous calls by IP). @defaultValue 'ip'
   */
  key?: 'ip' | 'user';
  /**
   * Per-endpoint overrides by route name (e.g. `'chat.syncMessages'`); `false` exempts an endpoint.
   * Rocket.Chat lets endpoints declare their own `rateLimiterOptions`; the defaults here raise the
   * limits of the endpoints tests poll (login, chat.syncMessages, chat.getMessage, me).
   */
  endpoints?: Record<string, RestRateLimitRule | false>;
}

export interface SimulatorOptions {
  /** TCP port; 0 picks a free one. @defaultValue 0 */
  port?: number;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /**
   * Which Rocket.Chat DDP server to answer like: Meteor's own (single-process deployments) or the
   * `ddp-streamer` microservice. Changeable later through the control API. @defaultValue 'meteor'
   */
  flavor?: Flavor;
  /** Server pings after this long without an inbound frame; 0 disables the heartbeat. @defaultValue 15000 (meteor), 30000 (streamer) */
  heartbeatIntervalMs?: number;
  /** Closes the socket if no frame arrives this long after its ping. @defaultValue 15000 (meteor), 30000 (streamer) */
  heartbeatTimeoutMs?: number;
  /** Login token lifetime (`Accounts_LoginExpiration`, 90 days). @defaultValue 7776000000 */
  tokenLifetimeMs?: number;
  /** Rocket.Chat's default DDP rate-limiter rules. @defaultValue true */
  rateLimits?: boolean;
  /** REST rate limiter (`API_Enable_Rate_Limiter_*`: 10 calls / 60 s per endpoint); false disables it. */
  restRateLimit?: RestRateLimitOptions | false;
  /** Seed alice, bob, carol, GENERAL, ops and the alice–bob DM. @defaultValue true */
  seed?: boolean;
  /**
   * Answer failed resume logins like the Rocket.Chat ≥ 6 monolith, whose login-error override turns
   * every login failure into `401 "User not found"`. When false, resume failures carry Meteor's 403
   * texts (what ddp-streamer deployments and older servers send). @defaultValue false
   */
  maskLoginErrors?: boolean;
  /** Send `updated` before `result` (Meteor does for methods without writes). @defaultValue false */
  updatedBeforeResult?: boolean;
  /** Setting `Message_MaxAllowedSize`. @defaultValue 5000 */
  maxMessageSize?: number;
  /**
   * Meteor's `HTTP_FORWARDED_COUNT`: proxies in front of the server whose `X-Forwarded-For`
   * entries are trusted, so REST rate limits count the client a gateway names. @defaultValue 0
   */
  httpForwardedCount?: number;
}

export interface ResolvedOptions {
  readonly port: number;
  readonly host: string;
  readonly flavor: Flavor;
  /** Undefined: the flavor's own timing. */
  readonly heartbeatIntervalMs: number | undefined;
  readonly heartbeatTimeoutMs: number | undefined;
  readonly tokenLifetimeMs: number;
  readonly rateLimits: boolean;
  readonly restRateLimit: Required<RestRateLimitOptions> | false;
  readonly seed: boolean;
  readonly maskLoginErrors: boolean;
  readonly updatedBeforeResult: boolean;
  readonly maxMessageSize: number;
  readonly httpForwardedCount: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const DEFAULT_REST_ENDPOINT_LIMITS: Readonly<Record<string, RestRateLimitRule>> = {
  login: { calls: 100, windowMs: 60_000 },
  me: { calls: 600, windowMs: 60_000 },
  'chat.syncMessages': { calls: 1000, windowMs: 60_000 },
  'chat.getMessage': { calls: 1000, windowMs: 60_000 },
};

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative number, got ${value}`);
  }
  return value;
}

function optionalNonNegative(name: string, value: number | undefined): number | undefined {
  return value === undefined ? undefined : nonNegative(name, value);
}

export function resolveOptions(options: SimulatorOptions = {}): ResolvedOptions {
  const rest = options.restRateLimit;
  if (options.flavor !== undefined && !isFlavor(options.flavor)) {
    throw new RangeError(`flavor must be "meteor" or "streamer", got ${String(options.flavor)}`);
  }
  return {
    port: nonNegative('port', options.port ?? 0),
    host: options.host ?? '127.0.0.1',
    flavor: options.flavor ?? 'meteor',
    heartbeatIntervalMs: optionalNonNegative('heartbeatIntervalMs', options.heartbeatIntervalMs),
    heartbeatTimeoutMs: optionalNonNegative('heartbeatTimeoutMs', options.heartbeatTimeoutMs),
    tokenLifetimeMs: nonNegative('tokenLifetimeMs', options.tokenLifetimeMs ?? 90 * DAY_MS),
    rateLimits: options.rateLimits ?? true,
    restRateLimit:
      rest === false
        ? false
        : {
            calls: rest?.calls ?? 10,
            windowMs: rest?.windowMs ?? 60_000,
            key: rest?.key ?? 'ip',
            endpoints: { ...DEFAULT_REST_ENDPOINT_LIMITS, ...(rest?.endpoints ?? {}) },
          },
    seed: options.seed ?? true,
    maskLoginErrors: options.maskLoginErrors ?? false,
    updatedBeforeResult: options.updatedBeforeResult ?? false,
    maxMessageSize: nonNegative('maxMessageSize', options.maxMessageSize ?? 5000),
    httpForwardedCount: nonNegative('httpForwardedCount', options.httpForwardedCount ?? 0),
  };
}
