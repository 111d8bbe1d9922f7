/**
 * Rocket.Chat REST failures met while checking someone's credentials (login, `/me`), as gateway
 * errors. Kept apart from general upstream errors because here a 400/401/403 means "these
 * credentials are not good", which must read the same whichever part was wrong.
 */
import { createError, type GatewayError } from '../errors.js';
import { RocketChatRestError } from '../rocketchat/rest-client.js';

const REJECTED_MESSAGE = 'Rocket.Chat did not accept these credentials';

/** A `GatewayError` for a `RocketChatRestError`; anything else is returned unchanged. */
export function fromCredentialCheckError(err: unknown): unknown {
  if (!(err instanceof RocketChatRestError)) return err;
  const options = { cause: err };
  if (err.status === 400 || err.status === 401 || err.status === 403) {
    return createError('GW_ERR_UNAUTHENTICATED', REJECTED_MESSAGE, options);
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
  return createError('GW_ERR_UNAUTHENTICATED', REJECTED_MESSAGE);
}
