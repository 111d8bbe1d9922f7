/**
 * The `authenticate` middleware (`createHttpAuth(ctx).authenticate()`): proves who the caller is and sets `req.principal`
 * (architecture invariant 5: the user id always comes from a verified token, never a parameter).
 *
 * Accepted, first match wins:
 * 1. `Authorization: Bearer <gateway access token>`.
 * 2. `X-User-Id` + `X-Auth-Token`: Rocket.Chat's own pair, checked upstream (see
 *    rocketchat-header-auth.ts).
 * 3. `?access_token=<gateway SSE token>`, only where `allowQueryToken` is set (the SSE endpoint):
 *    browsers' EventSource cannot send headers.
 * 4. The `gw_events` cookie holding an SSE token, only where `allowCookie` is set (the SSE
 *    endpoint, read-only), and only from the gateway's own origin or a `CORS_ORIGINS` one
 *    (events-cookie.ts says why).
 *
 * A gateway token stays valid after Rocket.Chat revoked the token stored behind it; such callers
 * are told to register again rather than getting streams that never receive anything.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createError, type GatewayError, isGatewayError } from '../../errors.js';
import { clockOf, type HttpContext, type Principal } from '../context.js';
import { clientAddressOf, LoginThrottle } from '../login-throttle.js';
import { checkCookieOrigin, readEventsCookie } from './events-cookie.js';
import { RocketChatHeaderAuth } from './rocketchat-header-auth.js';
import { type TokenType, USER_ID_PATTERN, verifyToken } from './tokens.js';

export interface AuthenticateOptions {
  /**
   * Also accept `?access_token=<SSE token>`. Only for `GET /v1/events`: a token in a URL leaks into
   * proxy logs and browser history. @defaultValue false
   */
  readonly allowQueryToken?: boolean;
  /**
   * Also accept the SSE token in the `gw_events` cookie (events-cookie.ts). Only for the read-only
   * `GET /v1/events`: a cookie rides along on requests other pages start. @defaultValue false
   */
  readonly allowCookie?: boolean;
  /**
   * Let a gateway token through even when the user's stored credential was marked invalid, for
   * routes that must work then (`DELETE /v1/sessions`). @defaultValue false
   */
  readonly allowInvalidCredentials?: boolean;
}

// RFC 6750 section 2.1: `Bearer` then a b64token; the scheme is case-insensitive (RFC 7235).
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
// Rocket.Chat tokens are base64url; anything printable is let through to Rocket.Chat to judge,
// but bounded, and never with spaces or control characters.
export const AUTH_TOKEN_PATTERN = /^[\x21-\x7e]{1,512}$/;

const MISSING_MESSAGE =
  'Send Authorization: Bearer <token> (from POST /v1/sessions), or X-User-Id and X-Auth-Token';

/**
 * The HTTP tier's authentication, built once per app by the composition root and handed to every
 * route that checks a caller: one login throttle and one `X-Auth-Token` checker (with its cache),
 * shared by all of them, so a token verified on one route is known on the others.
 */
export interface HttpAuth {
  /** Counts failed logins per address and account (POST /v1/sessions, `X-Auth-Token`). */
  readonly throttle: LoginThrottle;
  /** The `X-User-Id`/`X-Auth-Token` checker and its cache. */
  readonly headerAuth: RocketChatHeaderAuth;
  /** The middleware that sets `req.principal`, accepting what `options` allow. */
  authenticate(options?: AuthenticateOptions): RequestHandler;
}

export function createHttpAuth(ctx: HttpContext): HttpAuth {
  const { rest, credentials, redis, keys, logger } = ctx;
  const throttle = new LoginThrottle({
    redis,
    keys,
    limits: ctx.config.http.loginFailures,
    logger,
    clock: clockOf(ctx),
  });
  const headerAuth = new RocketChatHeaderAuth({
    rest,
    credentials,
    redis,
    keys,
    logger,
    throttle,
    clock: clockOf(ctx),
  });
  return {
    throttle,
    headerAuth,
    authenticate: (options = {}) => authenticateWith(ctx, headerAuth, options),
  };
}

function authenticateWith(
  ctx: HttpContext,
  headerAuth: RocketChatHeaderAuth,
  options: AuthenticateOptions,
): RequestHandler {
  const resolved: ResolvedOptions = {
    isQueryTokenAllowed: options.allowQueryToken ?? false,
    isCookieAllowed: options.allowCookie ?? false,
    isInvalidCredentialAllowed: options.allowInvalidCredentials ?? false,
  };
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      req.principal = await resolvePrincipal(ctx, headerAuth, req, resolved);
    } catch (err) {
      if (isGatewayError(err) && err.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
      next(err);
      return;
    }
    next();
  };
}

interface ResolvedOptions {
  readonly isQueryTokenAllowed: boolean;
  readonly isCookieAllowed: boolean;
  readonly isInvalidCredentialAllowed: boolean;
}

async function resolvePrincipal(
  ctx: HttpContext,
  headerAuth: RocketChatHeaderAuth,
  req: Request,
  options: ResolvedOptions,
): Promise<Principal> {
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const match = BEARER.exec(authorization);
    if (!match?.[1]) throw unauthenticated('The Authorization header must be "Bearer <token>"');
    return fromGatewayToken(ctx, match[1], 'access', options);
  }

  const userId = req.headers['x-user-id'];
  const authToken = req.headers['x-auth-token'];
  if (userId !== undefined || authToken !== undefined) {
    if (typeof userId !== 'string' || typeof authToken !== 'string') {
      throw unauthenticated('X-User-Id and X-Auth-Token must be sent together');
    }
    if (!USER_ID_PATTERN.test(userId) || !AUTH_TOKEN_PATTERN.test(authToken)) {
      throw unauthenticated('X-User-Id or X-Auth-Token is malformed');
    }
    const subject = await headerAuth.verify(userId, authToken, clientAddressOf(req));
    return { userId: subject.userId, username: subject.username, via: 'rocketchat-headers' };
  }

  const queryToken = req.query['access_token'];
  if (queryToken !== undefined) {
    if (!options.isQueryTokenAllowed) {
      throw unauthenticated(
        '?access_token= is accepted only by GET /v1/events; send Authorization: Bearer <token> instead',
      );
    }
    if (typeof queryToken !== 'string') throw unauthenticated('access_token must be given once');
    return fromGatewayToken(ctx, queryToken, 'sse', options);
  }

  if (options.isCookieAllowed) {
    const cookieToken = readEventsCookie(req);
    if (cookieToken !== undefined) {
      checkCookieOrigin(req, ctx.config.http.corsOrigins);
      return fromGatewayToken(ctx, cookieToken, 'sse', options, 'cookie');
    }
  }

  throw unauthenticated(MISSING_MESSAGE);
}

async function fromGatewayToken(
  ctx: HttpContext,
  token: string,
  type: TokenType,
  options: ResolvedOptions,
  carrier: 'query' | 'cookie' = 'query',
): Promise<Principal> {
  const subject = verifyToken(ctx.config.jwt, token, type, clockOf(ctx));
  const via = type === 'access' ? 'jwt' : carrier === 'cookie' ? 'cookie' : 'query-token';
  const generation = subject.generation ?? 0;
  // One HMGET: cheap enough for every request, and what makes a logout or a revocation visible
  // at once.
  const access = await ctx.credentials.access(subject.userId);
  if (access.generation !== generation) {
    throw unauthenticated('This token was ended by a logout (DELETE /v1/sessions); POST /v1/sessions again');
  }
  const principal: Principal = { userId: subject.userId, username: subject.username, via, generation };
  if (options.isInvalidCredentialAllowed) return principal;
  if (access.status === 'invalid') {
    throw createError(
      'GW_ERR_CREDENTIALS_INVALID',
      'Rocket.Chat no longer accepts the stored credentials (logged out, token revoked or password changed); POST /v1/sessions again',
    );
  }
  return principal;
}

function unauthenticated(message: string): GatewayError {
  return createError('GW_ERR_UNAUTHENTICATED', message);
}
