/**
 * REST authentication endpoints: `/api/v1/login`, `/api/v1/logout`, `/api/v1/me`, plus `/api/info`.
 */
import type { Router } from 'express';
import type { SimContext } from './context.js';
import { performLogin } from './login-service.js';
import { MeteorError } from './meteor-error.js';
import { isRecord } from './method-helpers.js';
import { addRoute } from './rest-framework.js';
import type { RestRateLimits } from './rest-rate-limit.js';
import { revokeToken } from './token-revocation.js';
import { userInfo } from './user-views.js';

/** The Rocket.Chat version the simulator claims to be. */
export const SIMULATED_VERSION = '7.4.0';

/** RC api.ts `loginCompatibility`: `{user|username|email, password, code?}` → a `login` method argument. */
function loginArguments(body: Record<string, unknown>): unknown {
  const { user, username, email, password, code } = body;
  if (password === undefined || password === null) {
    return body;
  }
  if (Object.keys(body).some((key) => !['user', 'username', 'email', 'password', 'code'].includes(key))) {
    return body;
  }
  let selector: Record<string, unknown> | undefined;
  if (typeof user === 'string') {
    selector = user.includes('@') ? { email: user } : { username: user };
  } else if (typeof username === 'string') {
    selector = { username };
  } else if (typeof email === 'string') {
    selector = { email };
  }
  if (!selector) {
    return body;
  }
  const pass =
    isRecord(password) && typeof password['hashed'] === 'string'
      ? { digest: password['hashed'], algorithm: 'sha-256' }
      : password;
  const auth = { user: selector, password: pass };
  return code ? { totp: { code, login: auth } } : auth;
}

export function addAuthRoutes(router: Router, ctx: SimContext, limits: RestRateLimits): void {
  router.get('/info', (_req, res) => {
    res.json({ version: SIMULATED_VERSION, success: true });
  });

  addRoute(router, ctx, limits, { method: 'post', name: 'login', authRequired: false }, (call) => {
    try {
      const outcome = performLogin(ctx, loginArguments(call.body), 'rest');
      return {
        body: {
          status: 'success',
          data: {
            userId: outcome.user._id,
            authToken: outcome.login.token,
            me: userInfo(outcome.user, call.baseUrl),
          },
        },
      };
    } catch (err) {
      if (!(err instanceof MeteorError)) {
        return { status: 500, raw: true, body: { success: false, error: 'Internal server error' } };
      }
      const masked = err.reason === 'User not found';
      return {
        status: 401,
        raw: true,
        body: {
          success: false,
          error: masked ? 'Unauthorized' : err.error,
          status: 'error',
          ...(err.details !== undefined && { details: err.details }),
          message: masked ? 'Unauthorized' : (err.reason ?? err.message),
        },
      };
    }
  });

  const logout = (token: string | undefined) => {
    if (token) {
      revokeToken(ctx, token);
    }
    return { raw: true, body: { status: 'success', data: { message: "You've been logged out!" } } };
  };
  addRoute(router, ctx, limits, { method: 'post', name: 'logout', authRequired: true }, (call) =>
    logout(call.token),
  );
  addRoute(router, ctx, limits, { method: 'get', name: 'logout', authRequired: true }, (call) =>
    logout(call.token),
  );

  addRoute(router, ctx, limits, { method: 'get', name: 'me', authRequired: true }, (call) => ({
    body: call.user ? userInfo(call.user, call.baseUrl) : {},
  }));
}
