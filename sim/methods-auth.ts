/**
 * `login` and `logout` (docs/simulator-protocol.md §3).
 */
import { performLogin } from './login-service.js';
import type { MethodTable } from './method-types.js';
import { revokeToken } from './token-revocation.js';

export const AUTH_METHODS: MethodTable = {
  login(invocation, [request]) {
    const outcome = performLogin(invocation.ctx, request, 'ddp', invocation.connection.flavor);
    invocation.setUserId(outcome.user._id, outcome.login.token);
    return {
      id: outcome.user._id,
      token: outcome.login.token,
      tokenExpires: invocation.ctx.auth.expiresAt(outcome.login),
      type: outcome.type,
    };
  },

  /**
   * Meteor `logout`: destroys the connection's token (so other connections resumed with the same
   * token are closed, as Meteor's token observer does) and re-runs subscriptions as anonymous.
   */
  logout(invocation) {
    const token = invocation.connection.token;
    invocation.setUserId(null, null);
    if (token) {
      revokeToken(invocation.ctx, token);
    }
    return undefined;
  },
};
