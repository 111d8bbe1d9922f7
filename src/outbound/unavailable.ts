/**
 * The call router answers "no worker could hold a session for this user" both when Rocket.Chat
 * is down and when the user has no usable credentials; only the credential store can tell them
 * apart, and only the second is final.
 */
import { createError, type GatewayError } from '../errors.js';
import type { CredentialStore } from '../sessions/credential-store.js';

/** `error` itself, or the credential problem hiding behind a `GW_ERR_UPSTREAM_UNAVAILABLE`. */
export async function explainUnavailable(
  error: GatewayError,
  credentials: CredentialStore,
  userId: string,
): Promise<GatewayError> {
  if (error.code !== 'GW_ERR_UPSTREAM_UNAVAILABLE') return error;
  const credential = await credentials.load(userId).catch(() => null);
  if (credential === undefined) return createError('GW_ERR_NO_CREDENTIALS', undefined, { cause: error });
  if (credential?.status === 'invalid')
    return createError('GW_ERR_CREDENTIALS_INVALID', undefined, { cause: error });
  return error;
}
