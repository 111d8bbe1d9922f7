/**
 * Storing and removing a user's Rocket.Chat resume token on behalf of the HTTP tier. The store
 * itself tells the user's session about it (`credentials-changed` on the control plane).
 */
import type { HttpContext } from '../context.js';

type CredentialDeps = Pick<HttpContext, 'credentials'>;

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
}

/** Deletes the user's stored credential and announces it. */
export async function removeCredential(ctx: CredentialDeps, userId: string): Promise<void> {
  await ctx.credentials.remove(userId);
}
