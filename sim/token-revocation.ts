/**
 * Token removal with Meteor's consequence: a connection logged in with a removed token is closed
 * (accounts-base observes `services.resume.loginTokens` and calls `connection.close()`).
 */
import type { SimContext } from './context.js';

export interface RevokeOptions {
  /**
   * `true` (default, Meteor): close every DDP connection that used a revoked token.
   * `false`: keep the sockets and log those connections out in place instead (subscriptions
   * re-run as anonymous: user-bound streams get `nosub` with `not-allowed`, later methods fail
   * with `error-invalid-user`).
   */
  closeConnections?: boolean;
}

export function revokeToken(ctx: SimContext, token: string): void {
  ctx.auth.revoke(token);
  for (const connection of ctx.connections.all()) {
    if (connection.token === token) {
      connection.close();
    }
  }
}

/** Revokes all of a user's tokens: `<uid>/force_logout` first, then the connections are closed (or logged out). */
export function revokeUserTokens(ctx: SimContext, userId: string, options: RevokeOptions = {}): number {
  const removed = new Set(ctx.auth.revokeAll(userId));
  ctx.notifier.forceLogout(userId);
  for (const connection of ctx.connections.all()) {
    if (connection.token !== null && removed.has(connection.token)) {
      if (options.closeConnections === false) {
        connection.logoutInPlace();
      } else {
        connection.close();
      }
    }
  }
  return removed.size;
}
