/**
 * Errors raised by the DDP client. Each has a stable `code` (`DDP_ERR_*`) so callers branch on
 * codes rather than messages, and `instanceof` works for the common base.
 */
import type { DdpErrorObject } from './messages.js';

export class DdpError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The server answered a method call or a subscription with a Meteor.Error. Keeps Rocket.Chat's
 * own `error` code (`error-not-allowed`, `too-many-requests`, 403...), `reason` and `details`.
 */
export class DdpRemoteError extends DdpError {
  readonly error: string | number;
  readonly reason: string | undefined;
  readonly details: unknown;
  /** For `too-many-requests`: how long the server asks us to wait (its `details.timeToReset`). */
  readonly retryAfterMs: number | undefined;

  constructor(remote: DdpErrorObject, context: string) {
    // The object comes off the wire as is: a field of the wrong type (`{"toString":1}` makes a
    // template literal throw) must not turn a remote error into a crash.
    const code =
      typeof remote.error === 'string' || typeof remote.error === 'number' ? remote.error : 'unknown';
    const reason = typeof remote.reason === 'string' ? remote.reason : undefined;
    const text =
      typeof remote.message === 'string' ? remote.message : reason ? `${reason} [${code}]` : `[${code}]`;
    super('DDP_ERR_REMOTE', `${context}: ${text}`);
    this.error = code;
    this.reason = reason;
    this.details = remote.details;
    this.retryAfterMs = code === 'too-many-requests' ? readTimeToReset(remote.details, reason) : undefined;
  }
}

function readTimeToReset(rawDetails: unknown, reason: string | undefined): number {
  const details = rawDetails as { timeToReset?: unknown } | null | undefined;
  if (typeof details?.timeToReset === 'number' && details.timeToReset >= 0) return details.timeToReset;
  // Older servers only say it in words: "You must wait 3 seconds before trying again."
  const match = /wait (\d+) seconds/.exec(reason ?? '');
  return match ? Number(match[1]) * 1000 : 1000;
}

/** No answer within the call's timeout. The method may or may not have run upstream. */
export class DdpTimeoutError extends DdpError {
  constructor(what: string, timeoutMs: number) {
    super('DDP_ERR_TIMEOUT', `${what}: no answer within ${timeoutMs} ms`);
  }
}

/**
 * The connection was lost while the call was in flight. `mayHaveRun` is true when the request
 * had been written to the socket: the outcome is unknown and must be verified, not retried blindly.
 */
export class DdpDisconnectedError extends DdpError {
  readonly mayHaveRun: boolean;
  constructor(what: string, mayHaveRun: boolean) {
    super(
      'DDP_ERR_DISCONNECTED',
      `${what}: connection lost${mayHaveRun ? ' after the request was sent' : ''}`,
    );
    this.mayHaveRun = mayHaveRun;
  }
}

/**
 * The call's time ran out while it waited for a connection: it was never written, so it did not
 * run and is safe to send again. Not a timeout (a timeout's call may have run): the server was
 * out of reach, which callers report as unavailable.
 */
export class DdpNotSentError extends DdpDisconnectedError {
  constructor(what: string, timeoutMs: number) {
    super(what, false);
    this.message = `${what}: not sent within ${timeoutMs} ms, no connection to the server`;
  }
}

/** Too many calls are already waiting for the connection to come back. */
export class DdpQueueFullError extends DdpError {
  constructor(limit: number) {
    super('DDP_ERR_QUEUE_FULL', `connection is down and ${limit} calls are already waiting for it`);
  }
}

/** The client was closed (by `close()` or after a fatal authentication failure). */
export class DdpClosedError extends DdpError {
  constructor(what: string) {
    super('DDP_ERR_CLOSED', `${what}: client is closed`);
  }
}

export function isDdpRemoteError(err: unknown, code?: string | number): err is DdpRemoteError {
  return err instanceof DdpRemoteError && (code === undefined || err.error === code);
}
