/**
 * Errors the client throws. Each carries what a caller branches on: the gateway's stable `code`
 * (`GW_ERR_*`, docs/errors.md), the HTTP status, and when waiting helps, `retryAfterMs`.
 */

/** A request the gateway answered with an error (or a body that is not the documented one). */
export class GatewayRequestError extends Error {
  override readonly name = 'GatewayRequestError';
  /** HTTP status, or 0 when the gateway could not be reached. */
  readonly status: number;
  /** The gateway's `error` code, or `GW_CLIENT_ERR_NETWORK` / `GW_CLIENT_ERR_RESPONSE`. */
  readonly code: string;
  /** From the body's `retryAfterMs` or the `Retry-After` header, when the gateway gave one. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    fields: { status: number; code: string; retryAfterMs?: number | undefined; cause?: unknown },
  ) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.status = fields.status;
    this.code = fields.code;
    this.retryAfterMs = fields.retryAfterMs;
  }

  /**
   * Worth retrying the same request later: the gateway could not be reached, is draining,
   * overloaded or rate limiting, or Rocket.Chat is unavailable.
   */
  get isRetryable(): boolean {
    return (
      this.status === 0 ||
      this.status === 429 ||
      this.status === 502 ||
      this.status === 503 ||
      this.status === 504
    );
  }
}

/** Why a webhook request failed verification (webhook-verifier.ts). */
export type WebhookVerificationFailure =
  | 'missing-headers'
  | 'bad-timestamp'
  | 'timestamp-out-of-tolerance'
  | 'no-matching-signature'
  | 'bad-secret'
  | 'bad-body';

/** A webhook request that is not provably from the gateway: answer it 4xx and drop it. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  readonly reason: WebhookVerificationFailure;

  constructor(reason: WebhookVerificationFailure, message: string) {
    super(message);
    this.reason = reason;
  }
}
