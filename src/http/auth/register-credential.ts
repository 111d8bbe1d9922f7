/**
 * Storing and removing a user's Rocket.Chat resume token on behalf of the HTTP tier. Both tell the
 * user's session about it on the control channel, so a worker holding a session (or one that gave
 * up on a revoked token) logs in again with the new token at once rather than on its next retry.
 */
import type { HttpContext } from '../context.js';

/** The message published on `keys.userControlChannel(userId)` when the credential changes. */
export const CREDENTIALS_CHANGED = 'credentials';

type CredentialDeps = Pick<HttpContext, 'credentials' | 'redis' | 'keys'>;

/** Saves the token as the user's valid credential (clearing an `invalid` mark) and announces it. */
export async function registerCredential(
  ctx: CredentialDeps,
  userId: string,
  credential: { readonly token: string; readonly username: string | undefined },
): Promise<void> {
  await ctx.credentials.save(userId, {
    token: credential.token,
    ...(credential.username === undefined ? {} : { username: credential.username }),
  });
  await ctx.redis.publish(ctx.keys.userControlChannel(userId), CREDENTIALS_CHANGED);
}

/** Deletes the user's stored credential and announces it. */
export async function removeCredential(ctx: CredentialDeps, userId: string): Promise<void> {
  await ctx.credentials.remove(userId);
  await ctx.redis.publish(ctx.keys.userControlChannel(userId), CREDENTIALS_CHANGED);
}
