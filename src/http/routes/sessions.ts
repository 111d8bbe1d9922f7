/**
 * `/v1/sessions`: registering a user's Rocket.Chat credentials with the gateway.
 *
 * - `POST /v1/sessions` takes `{ username, password }` (exchanged for a resume token at once; the
 *   password is neither stored nor logged) or `{ userId, authToken }` (checked with `/me`), stores
 *   the resume token encrypted, and returns a gateway access token.
 * - `POST /v1/sessions/sse-token` returns a short-lived token for `GET /v1/events?access_token=`.
 * - `DELETE /v1/sessions` logs out: the stored credential ends and every gateway token issued
 *   for the user before stops working (register-credential.ts `logoutCredential`); a browser's
 *   SSE cookie (auth/events-cookie.ts) is cleared too.
 */
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { createError, isGatewayError } from '../../errors.js';
import { credentialsRejected, mapCredentialCheckError } from '../../rocketchat/errors.js';
import type { RestAuth } from '../../rocketchat/rest-client.js';
import {
  AUTH_TOKEN_PATTERN,
  clearEventsCookie,
  type HttpAuth,
  issueAccessToken,
  issueSseToken,
  logoutCredential,
  registerCredential,
  USER_ID_PATTERN,
} from '../auth/index.js';
import { clockOf, type HttpContext, type Principal } from '../context.js';
import { clientAddressOf } from '../login-throttle.js';
import { jsonObjectBody, parseInput } from '../validation.js';

const requiredString = (what: string) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .min(1, 'must not be empty')
    .max(1024, `is too long for ${what}`);

/** `POST /v1/sessions` with a password (also in the OpenAPI document). */
export const passwordLoginSchema = z.object({
  username: requiredString('a username or e-mail address'),
  password: requiredString('a password'),
});

/** `POST /v1/sessions` with a Rocket.Chat resume token. */
export const tokenLoginSchema = z.object({
  userId: requiredString('a user id').regex(USER_ID_PATTERN, 'is not a Rocket.Chat user id'),
  // Sent upstream as a header: control characters (CR/LF) or spaces cannot be part of a token.
  authToken: requiredString('a token').regex(AUTH_TOKEN_PATTERN, 'must be printable ASCII without spaces'),
});

const EITHER_FORM = 'Send {"username","password"} or {"userId","authToken"}';

interface VerifiedLogin {
  readonly userId: string;
  readonly username: string;
  /** The resume token to store. */
  readonly token: string;
  readonly method: 'password' | 'token';
}

/** `auth`: the app's one authentication (its login throttle counts failed logins here too). */
export function createSessionsRouter(ctx: HttpContext, auth: HttpAuth): Router {
  const router = express.Router();

  router.post('/', async (req: Request, res: Response) => {
    const body = jsonObjectBody(req);
    const attempt = { address: clientAddressOf(req), account: accountOf(body) };
    const { throttle } = auth;
    await throttle.check(attempt);
    let login: VerifiedLogin;
    try {
      login = await verifyLogin(ctx, body, attempt.address);
    } catch (err) {
      if (isGatewayError(err) && err.code === 'GW_ERR_UNAUTHENTICATED') await throttle.recordFailure(attempt);
      throw err;
    }
    const saved = await registerCredential(ctx, login.userId, {
      token: login.token,
      username: login.username,
      origin: login.method === 'password' ? 'login' : 'given',
    });
    ctx.logger.info(
      { requestId: req.requestId, userId: login.userId, method: login.method },
      'Rocket.Chat credentials registered',
    );
    const issued = issueAccessToken(
      ctx.config.jwt,
      { userId: login.userId, username: login.username, generation: saved.generation },
      clockOf(ctx),
    );
    res.setHeader('Cache-Control', 'no-store');
    res.status(201).json({
      token: issued.token,
      userId: login.userId,
      username: login.username,
      expiresAt: issued.expiresAt.toISOString(),
    });
  });

  router.post('/sse-token', auth.authenticate(), async (req: Request, res: Response) => {
    const principal = principalOf(req);
    // A caller proven by X-Auth-Token has no generation yet: the stored one is current.
    const generation = principal.generation ?? (await ctx.credentials.access(principal.userId)).generation;
    const issued = issueSseToken(ctx.config.jwt, { ...principal, generation }, clockOf(ctx));
    res.setHeader('Cache-Control', 'no-store');
    res.status(201).json({ token: issued.token, expiresAt: issued.expiresAt.toISOString() });
  });

  // A user whose stored token was revoked may still deregister.
  router.delete(
    '/',
    auth.authenticate({ allowInvalidCredentials: true }),
    async (req: Request, res: Response) => {
      const { userId } = principalOf(req);
      await logoutCredential(ctx, userId, clockOf(ctx).now());
      auth.headerAuth.forgetUser(userId);
      // The token in a browser's SSE cookie is void already (its generation ended); drop it too.
      clearEventsCookie({ req, publicUrl: ctx.config.http.publicUrl }, res);
      ctx.logger.info({ requestId: req.requestId, userId }, 'logged out');
      res.status(204).end();
    },
  );

  return router;
}

/** The account a login names, for counting its failures; undefined when it names none usable. */
function accountOf(body: Record<string, unknown>): string | undefined {
  const account = body.username ?? body.userId;
  return typeof account === 'string' && account.length > 0 && account.length <= 1024 ? account : undefined;
}

async function verifyLogin(
  ctx: HttpContext,
  body: Record<string, unknown>,
  clientAddress: string,
): Promise<VerifiedLogin> {
  const on = { clientAddress };
  const isPasswordForm = 'username' in body || 'password' in body;
  const isTokenForm = 'userId' in body || 'authToken' in body;
  if (isPasswordForm && isTokenForm) throw createError('GW_ERR_VALIDATION', `${EITHER_FORM}, not both`);
  if (!isPasswordForm && !isTokenForm) throw createError('GW_ERR_VALIDATION', EITHER_FORM);

  try {
    if (isPasswordForm) {
      const input = parseInput(passwordLoginSchema, body);
      const auth = await ctx.rest.loginWithPassword(input.username, input.password, on);
      // The name the user typed may be an e-mail address: ask for the canonical username.
      const me = await ctx.rest.me(auth, on);
      if (me.userId !== auth.userId) throw credentialsRejected();
      return { userId: auth.userId, username: me.username, token: auth.token, method: 'password' };
    }
    const input = parseInput(tokenLoginSchema, body);
    const auth: RestAuth = { userId: input.userId, token: input.authToken };
    const me = await ctx.rest.me(auth, on);
    if (me.userId !== auth.userId) throw credentialsRejected();
    return { userId: auth.userId, username: me.username, token: auth.token, method: 'token' };
  } catch (err) {
    throw mapCredentialCheckError(err);
  }
}

function principalOf(req: Request): Principal {
  // `authenticate` runs before every handler that calls this; reaching here without it is a bug.
  if (!req.principal) throw new Error('route is missing the authenticate middleware');
  return req.principal;
}
