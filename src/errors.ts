/**
 * Every error the gateway reports to a caller, in one registry (as fastify's `lib/errors.js`):
 * a stable `GW_ERR_*` code, the HTTP status it renders as, and a default message. Code branches
 * on `code`, never on message text. Each code is documented in `docs/errors.md`;
 * `test/unit/errors-docs.test.ts` fails when the two disagree.
 *
 * Retired codes are never reused (a client may still branch on the old meaning): move a
 * removed code to `RETIRED_ERROR_CODES` and out of the docs table.
 */

interface ErrorDefinition {
  readonly status: number;
  readonly message: string;
}

export const ERROR_CODES = {
  GW_ERR_VALIDATION: { status: 400, message: 'The request is invalid' },
  GW_ERR_TOPIC_INVALID: { status: 400, message: 'A topic is not valid' },
  GW_ERR_WEBHOOK_TARGET_FORBIDDEN: { status: 400, message: 'The webhook target URL is not allowed' },
  GW_ERR_UNAUTHENTICATED: { status: 401, message: 'Authentication is required' },
  GW_ERR_NO_CREDENTIALS: {
    status: 401,
    message: 'No Rocket.Chat credentials are registered for this user',
  },
  GW_ERR_CREDENTIALS_INVALID: {
    status: 401,
    message: 'The stored Rocket.Chat credentials no longer work; register them again',
  },
  GW_ERR_FORBIDDEN: { status: 403, message: 'Not allowed' },
  GW_ERR_NOT_FOUND: { status: 404, message: 'Not found' },
  // 404, not 405: a method outside the catalogue is reported as absent, which reveals nothing
  // about what Rocket.Chat itself would accept.
  GW_ERR_METHOD_NOT_ALLOWED: { status: 404, message: 'This Rocket.Chat method is not available' },
  GW_ERR_CONFLICT: { status: 409, message: 'The request conflicts with the current state' },
  GW_ERR_PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  GW_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body must be JSON' },
  GW_ERR_RATE_LIMITED: { status: 429, message: 'Too many requests' },
  GW_ERR_INTERNAL: { status: 500, message: 'Internal error' },
  GW_ERR_CONFIG: { status: 500, message: 'The configuration is invalid' },
  GW_ERR_UPSTREAM: { status: 502, message: 'Rocket.Chat returned an error' },
  GW_ERR_UPSTREAM_UNAVAILABLE: { status: 503, message: 'Rocket.Chat is unavailable' },
  GW_ERR_SESSION_CAPACITY: { status: 503, message: 'No worker has capacity for another session' },
  GW_ERR_DRAINING: { status: 503, message: 'The gateway is shutting down; retry on another replica' },
  GW_ERR_UPSTREAM_TIMEOUT: { status: 504, message: 'Rocket.Chat did not answer in time' },
  GW_ERR_FORWARD_TIMEOUT: { status: 504, message: 'The worker owning the session did not answer in time' },
} as const satisfies Record<`GW_ERR_${string}`, ErrorDefinition>;

export type GatewayErrorCode = keyof typeof ERROR_CODES;

/** Codes that existed once and must never be given a new meaning. */
export const RETIRED_ERROR_CODES: readonly string[] = [];

export interface GatewayErrorOptions {
  /** The lower-level error, kept for logs; never rendered to callers. */
  readonly cause?: unknown;
  /** When the caller may try again (rendered as `Retry-After` by the HTTP layer). */
  readonly retryAfterMs?: number;
  /** Safe, structured facts for the caller (e.g. which field failed validation). */
  readonly details?: Readonly<Record<string, unknown>>;
}

// A registered symbol rather than `instanceof` alone: `instanceof` fails when two copies of this
// module are loaded (undici's `lib/core/errors.js` solves the same problem the same way).
const GATEWAY_ERROR = Symbol.for('rocketchat-gateway.GatewayError');

export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  readonly status: number;
  readonly retryAfterMs: number | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: GatewayErrorCode, message?: string, options: GatewayErrorOptions = {}) {
    super(message ?? ERROR_CODES[code].message, 'cause' in options ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
  }
}

// On the prototype, so it is inherited by subclasses and not printed with every instance.
Object.defineProperty(GatewayError.prototype, GATEWAY_ERROR, { value: true });

/** Builds the error for `code`, with the registry's default message unless one is given. */
export function createError(
  code: GatewayErrorCode,
  message?: string,
  options?: GatewayErrorOptions,
): GatewayError {
  return new GatewayError(code, message, options);
}

export function isGatewayError(value: unknown): value is GatewayError {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[GATEWAY_ERROR] === true
  );
}

/** Anything thrown, as a `GatewayError`: ours pass through, the rest become `GW_ERR_INTERNAL`. */
export function toGatewayError(value: unknown): GatewayError {
  if (isGatewayError(value)) return value;
  return new GatewayError('GW_ERR_INTERNAL', undefined, { cause: value });
}

/** The JSON body of every error response. */
export interface ErrorBody {
  readonly error: GatewayErrorCode;
  readonly message: string;
  readonly retryAfterMs?: number;
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * Renders `{ "error": code, "message": text }`. A 500 never shows its own message or details:
 * those describe our internals (a stack, a Redis reply), so the registry's default is shown and
 * the rest stays in the log.
 */
export function toErrorBody(value: unknown): ErrorBody {
  const error = toGatewayError(value);
  if (error.status === 500) return { error: error.code, message: ERROR_CODES[error.code].message };
  return {
    error: error.code,
    message: error.message,
    ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
    ...(error.details === undefined ? {} : { details: error.details }),
  };
}
