/**
 * Rocket.Chat's failures as the gateway's errors, in ONE place (style guide point 4). Every
 * route and processor that talks upstream turns what it caught into a `GatewayError` here, so
 * "not allowed" is 403 and "room not found" is 404 whether it came over DDP, over REST, from
 * this process's session or from one forwarded through Redis. The HTTP error handler
 * (`src/http/http-error.ts`) sends whatever is not yet a `GatewayError` through
 * `mapUpstreamError` too, so a DDP error that escapes a route still gets its own status.
 *
 * Rocket.Chat's own code (`error-not-allowed`, `too-many-requests`, 403...) is kept for the
 * caller in `details.upstreamError`, its reason in `details.upstreamReason`.
 */
import {
  DdpClosedError,
  DdpDisconnectedError,
  DdpError,
  DdpFatalError,
  DdpQueueFullError,
  DdpRemoteError,
  DdpTimeoutError,
} from '../ddp/index.js';
import { createError, type GatewayError, type GatewayErrorCode, isGatewayError } from '../errors.js';
import { RocketChatRestError } from './rest-client.js';

/** Codes that mean "this user may not do that" (docs/simulator-protocol.md §4; RC's Meteor.Error codes). */
const FORBIDDEN = new Set<string | number>([
  403,
  'not-allowed',
  'not-authorized',
  'error-not-allowed',
  'error-not-authorized',
  'error-action-not-allowed',
  'error-no-permission',
  'error-message-editing-blocked',
  'restricted-workspace',
  'room_is_archived',
  'room_is_blocked',
  'error-room-archived',
  'You_have_been_muted',
  'error-user-not-in-room',
]);

/** Codes that mean "no such thing (for this user)". */
const NOT_FOUND = new Set<string | number>([
  404,
  'error-invalid-room',
  'error-room-not-found',
  'error-invalid-message',
  'error-message-not-found',
  'error-invalid-user',
  'error-user-not-found',
  'error-invalid-subscription',
]);

/** Codes that conflict with the current state rather than being malformed. */
const CONFLICT = new Set<string | number>([
  'error-duplicate-channel-name',
  'error-you-are-last-owner',
  'error-user-already-owner',
  'error-user-already-moderator',
  'error-user-already-leader',
  'error-user-not-owner',
  'error-user-not-moderator',
  'error-user-not-leader',
]);

/** Codes that mean "the request itself is wrong": retrying the same thing cannot help. */
const INVALID = new Set<string | number>([
  400,
  'invalid-params',
  'error-invalid-params',
  'error-invalid-arguments',
  'error-invalid-update-key',
  'error-message-size-exceeded',
  'error-message-ts-out-of-sync',
  'error-invalid-name',
  'error-invalid-room-name',
  'error-invalid-emoji',
  'error-invalid-status',
  'error-invalid-room-type',
  'error-invalid-setting',
  'error-invalid-settings',
]);

const RATE_LIMITED = new Set<string | number>(['too-many-requests', 'error-too-many-requests', 429]);

function codeFor(upstream: string | number): GatewayErrorCode {
  if (RATE_LIMITED.has(upstream)) return 'GW_ERR_RATE_LIMITED';
  if (FORBIDDEN.has(upstream)) return 'GW_ERR_FORBIDDEN';
  if (NOT_FOUND.has(upstream)) return 'GW_ERR_NOT_FOUND';
  if (CONFLICT.has(upstream)) return 'GW_ERR_CONFLICT';
  if (INVALID.has(upstream)) return 'GW_ERR_VALIDATION';
  // RC names most argument checks `error-invalid-<thing>`; the not-found ones are listed above.
  if (typeof upstream === 'string' && upstream.startsWith('error-invalid-')) return 'GW_ERR_VALIDATION';
  if (upstream === 401) return 'GW_ERR_CREDENTIALS_INVALID';
  return 'GW_ERR_UPSTREAM';
}

function upstreamDetails(upstream: string | number | undefined, reason?: string): Record<string, unknown> {
  return {
    ...(upstream === undefined ? {} : { upstreamError: upstream }),
    ...(reason ? { upstreamReason: reason } : {}),
  };
}

/**
 * Any error from talking to Rocket.Chat (DDP, REST, a forwarded call) as a `GatewayError`.
 * Gateway errors pass through unchanged; anything unrecognised is `GW_ERR_INTERNAL`.
 */
export function mapUpstreamError(err: unknown): GatewayError {
  if (isGatewayError(err)) return err;
  if (err instanceof DdpRemoteError) {
    const code = codeFor(err.error);
    const reason =
      err.reason ?? (typeof err.error === 'string' ? err.error : `Rocket.Chat error ${err.error}`);
    return createError(code, reason, {
      cause: err,
      details: upstreamDetails(err.error, err.reason),
      ...(code === 'GW_ERR_RATE_LIMITED' ? { retryAfterMs: err.retryAfterMs ?? 1000 } : {}),
    });
  }
  if (err instanceof DdpTimeoutError)
    return createError('GW_ERR_UPSTREAM_TIMEOUT', undefined, { cause: err });
  if (err instanceof DdpFatalError) {
    // A fatal client error is a login that can never succeed with the stored token.
    return createError('GW_ERR_CREDENTIALS_INVALID', undefined, { cause: err });
  }
  if (
    err instanceof DdpDisconnectedError ||
    err instanceof DdpClosedError ||
    err instanceof DdpQueueFullError
  ) {
    return createError('GW_ERR_UPSTREAM_UNAVAILABLE', undefined, { cause: err });
  }
  if (err instanceof RocketChatRestError) return mapRestError(err);
  // A DDP error of another kind (one relayed from the owning worker): the line, not the request.
  if (err instanceof DdpError) return createError('GW_ERR_UPSTREAM_UNAVAILABLE', undefined, { cause: err });
  return createError('GW_ERR_INTERNAL', undefined, { cause: err });
}

/**
 * True when a call failed in a way that leaves its outcome unknown: it may have run upstream
 * (the line dropped after it was sent, no answer by the deadline, the owning worker did not
 * answer). A caller that must not run it twice checks before trying again.
 */
export function isUnknownOutcome(err: unknown): boolean {
  if (err instanceof DdpDisconnectedError) return err.mayHaveRun;
  if (err instanceof DdpTimeoutError) return true;
  if (!isGatewayError(err)) return false;
  return err.code === 'GW_ERR_FORWARD_TIMEOUT' || err.code === 'GW_ERR_UPSTREAM_TIMEOUT';
}

function mapRestError(err: RocketChatRestError): GatewayError {
  const options = { cause: err, details: upstreamDetails(err.upstreamError ?? err.status) };
  if (err.status === 429) {
    return createError('GW_ERR_RATE_LIMITED', undefined, {
      ...options,
      retryAfterMs: err.retryAfterMs ?? 1000,
    });
  }
  if (err.status === 503) return createError('GW_ERR_UPSTREAM_UNAVAILABLE', undefined, options);
  if (err.status === 504) return createError('GW_ERR_UPSTREAM_TIMEOUT', undefined, options);
  if (err.status === 401) return createError('GW_ERR_CREDENTIALS_INVALID', undefined, options);
  if (err.upstreamError !== undefined) {
    const code = codeFor(err.upstreamError);
    if (code !== 'GW_ERR_UPSTREAM') return createError(code, undefined, options);
  }
  if (err.status === 403) return createError('GW_ERR_FORBIDDEN', undefined, options);
  if (err.status === 404) return createError('GW_ERR_NOT_FOUND', undefined, options);
  if (err.status === 400) return createError('GW_ERR_VALIDATION', undefined, options);
  if (err.status >= 500) return createError('GW_ERR_UPSTREAM_UNAVAILABLE', undefined, options);
  return createError('GW_ERR_UPSTREAM', undefined, options);
}

/**
 * True when sending the same request again cannot succeed: the user may not, the thing does not
 * exist, the request is malformed or conflicts, the credentials are gone. Rate limits, outages,
 * timeouts and unmapped upstream errors are worth another attempt.
 */
export function isPermanentError(error: GatewayError): boolean {
  switch (error.code) {
    case 'GW_ERR_VALIDATION':
    case 'GW_ERR_FORBIDDEN':
    case 'GW_ERR_NOT_FOUND':
    case 'GW_ERR_CONFLICT':
    case 'GW_ERR_NO_CREDENTIALS':
    case 'GW_ERR_CREDENTIALS_INVALID':
    case 'GW_ERR_METHOD_NOT_ALLOWED':
      return true;
    default:
      return false;
  }
}

/**
 * English texts of the errors `sendMessage` reports only as an ephemeral rocket.cat message
 * (`<uid>/message`), back to Rocket.Chat's codes (RC i18n en.i18n.json; its sendMessage method
 * swallows the error and broadcasts `notify.ephemeralMessage` with the translated key instead).
 */
const EPHEMERAL_ERRORS: Readonly<Record<string, string>> = {
  'Invalid room': 'error-invalid-room',
  'Not allowed': 'error-not-allowed',
  'This room is archived': 'room_is_archived',
  'This room is blocked': 'room_is_blocked',
  'You have been muted and cannot speak in this room': 'You_have_been_muted',
  "You can't send messages because the room is readonly.": 'error-not-allowed',
};

/**
 * A send that Rocket.Chat refused with an ephemeral message, as a `GatewayError` carrying the
 * text as `upstreamReason` (and the code, when the text is one we know; an unknown text is
 * `GW_ERR_UPSTREAM`). Either way it is final: Rocket.Chat only sends these for refusals.
 */
export function mapEphemeralRefusal(text: string): GatewayError {
  const upstream = EPHEMERAL_ERRORS[text] ?? text;
  return createError(codeFor(upstream), text, { details: upstreamDetails(upstream, text) });
}

const CREDENTIALS_REJECTED_MESSAGE = 'Rocket.Chat did not accept these credentials';

/**
 * A REST failure met while checking someone's credentials (login, `/me`). Kept apart from
 * `mapUpstreamError` because here a 400/401/403 means "these credentials are not good", which
 * must read the same whichever part was wrong. Anything that is not a REST error goes through
 * `mapUpstreamError`.
 */
export function mapCredentialCheckError(err: unknown): GatewayError {
  if (!(err instanceof RocketChatRestError)) return mapUpstreamError(err);
  const options = { cause: err };
  if (err.status === 400 || err.status === 401 || err.status === 403) {
    return createError('GW_ERR_UNAUTHENTICATED', CREDENTIALS_REJECTED_MESSAGE, options);
  }
  if (err.status === 429) {
    return createError('GW_ERR_RATE_LIMITED', 'Rocket.Chat is rate limiting these requests', {
      ...options,
      retryAfterMs: err.retryAfterMs ?? 1000,
    });
  }
  if (err.status === 503) return createError('GW_ERR_UPSTREAM_UNAVAILABLE', undefined, options);
  if (err.status === 504) return createError('GW_ERR_UPSTREAM_TIMEOUT', undefined, options);
  return createError('GW_ERR_UPSTREAM', undefined, options);
}

/** A user id mismatch between what the caller claimed and what Rocket.Chat says. */
export function credentialsRejected(): GatewayError {
  return createError('GW_ERR_UNAUTHENTICATED', CREDENTIALS_REJECTED_MESSAGE);
}
