/**
 * Storing and ending a user's Rocket.Chat resume token on behalf of the HTTP tier. The credential
 * store itself tells the worker holding the user's session (`credentials-changed` on the control
 * plane): it logs in again with the new token, or closes the session after a logout.
 */

import type { CredentialOrigin, SavedCredential } from '../../sessions/credential-store.js';
import type { HttpContext } from '../context.js';

type CredentialDeps = Pick<HttpContext, 'credentials'>;

/**
 * Saves the token as the user's valid credential (clearing an `invalid` mark) and announces it.
 * Resolves with the logout generation that tokens issued for it must carry.
 */
export async function registerCredential(
  ctx: CredentialDeps,
  userId: string,
  credential: {
    readonly token: string;
    readonly username: string | undefined;
    readonly origin?: CredentialOrigin;
  },
): Promise<SavedCredential> {
  const saved = await ctx.credentials.save(userId, {
    token: credential.token,
    ...(credential.username === undefined ? {} : { username: credential.username }),
    ...(credential.origin === undefined ? {} : { origin: credential.origin }),
  });
  return saved;
}

/** The `reason` a logout stores and the `session.unauthorized` event it logs carry. */
export const LOGOUT_REASON = 'logout';

/**
 * Logs the user out as a revoked token would: the credential is marked invalid and every gateway
 * token issued before is void (credential-store.ts `logout`); a `session.unauthorized` event in
 * the user's log ends their SSE streams; webhook deliveries park (credential-gate.ts); the notice
 * on the control channel tells the worker holding the session. A token the gateway obtained with
 * a password is also revoked upstream, so Rocket.Chat closes the session's connection and the
 * session ends on the path every revoked token takes. A token a caller handed over is left alone
 * upstream: other clients of the user may share it.
 */
export async function logoutCredential(
  ctx: CredentialDeps & Pick<HttpContext, 'eventLog' | 'rest' | 'logger'>,
  userId: string,
  now: number,
): Promise<void> {
  const ended = await ctx.credentials.logout(userId, LOGOUT_REASON);
  await ctx.eventLog.append({
    type: 'session.unauthorized',
    userId,
    ts: new Date(now).toISOString(),
    data: { reason: LOGOUT_REASON },
  });
  if (ended?.origin !== 'login') return;
  try {
    await ctx.rest.logout({ userId, token: ended.token.reveal() });
  } catch (err) {
    // The gateway's side of the logout stands; the token expires upstream on its own.
    ctx.logger.warn({ err, userId }, 'could not revoke the Rocket.Chat token at logout');
  }
}
