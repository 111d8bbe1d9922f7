/**
 * `Meteor.Error` as it appears on the wire (docs/simulator-protocol.md §1.4):
 * `{isClientSafe, error, reason?, details?, message: "<reason> [<error>]", errorType: "Meteor.Error"}`.
 * Any other exception thrown by a method handler is masked as `500 Internal server error`.
 */

export type MeteorErrorCode = string | number;

export interface MeteorErrorWire {
  isClientSafe: true;
  error: MeteorErrorCode;
  reason?: string;
  details?: unknown;
  message: string;
  errorType: 'Meteor.Error';
}

export class MeteorError extends Error {
  readonly error: MeteorErrorCode;
  readonly reason: string | undefined;
  readonly details: unknown;

  constructor(error: MeteorErrorCode, reason?: string, details?: unknown) {
    super(reason ? `${reason} [${error}]` : `[${error}]`);
    this.name = 'MeteorError';
    this.error = error;
    this.reason = reason;
    this.details = details;
  }

  /** The JSON object placed in `result.error` / `nosub.error`; key order as Meteor sends it. */
  toWire(): MeteorErrorWire {
    return {
      isClientSafe: true,
      error: this.error,
      ...(this.reason !== undefined && { reason: this.reason }),
      ...(this.details !== undefined && { details: this.details }),
      message: this.message,
      errorType: 'Meteor.Error',
    };
  }
}

/** What Meteor sends for an exception that is not a Meteor.Error (ddp-server `wrapInternalException`). */
export function internalServerError(): MeteorError {
  return new MeteorError(500, 'Internal server error');
}

/** `check()` failures in method/publication arguments. */
export function matchFailed(): MeteorError {
  return new MeteorError(400, 'Match failed');
}

/** Meteor ddp-rate-limiter's error (`DDPRateLimiter.getErrorMessage`), identical for methods and subs. */
export function tooManyRequests(timeToResetMs: number): MeteorError {
  const seconds = Math.ceil(timeToResetMs / 1000);
  return new MeteorError(
    'too-many-requests',
    `Error, too many requests. Please slow down. You must wait ${seconds} seconds before trying again.`,
    { timeToReset: timeToResetMs },
  );
}

export function toMeteorError(err: unknown): MeteorError {
  return err instanceof MeteorError ? err : internalServerError();
}
