/**
 * Gateway tokens: JWTs the gateway issues after `POST /v1/sessions` and verifies on every request.
 *
 * Two kinds, told apart by the `typ` claim so neither can stand in for the other:
 * - `access`: sent as `Authorization: Bearer`, lives `JWT_TTL_SECONDS`.
 * - `sse`: sent as `?access_token=` by browsers whose EventSource cannot set headers. URLs end up
 *   in proxy logs and browser history, so it lives only `SSE_QUERY_TOKEN_TTL_SECONDS` and is
 *   accepted nowhere else.
 *
 * Verification pins `algorithms` to the one configured: a token claiming `alg: none`, or one
 * signed HS256 with the RS256 public key as its secret (algorithm confusion, CVE-2015-9235 and
 * kin), is refused before its signature is even looked at.
 */
import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { type Clock, systemClock } from '../../clock.js';
import type { JwtConfig } from '../../config/index.js';
import { createError, type GatewayError } from '../../errors.js';

export type TokenType = 'access' | 'sse';

/** Who a token speaks for. */
export interface TokenSubject {
  /** The Rocket.Chat user id (`sub`). */
  readonly userId: string;
  readonly username: string | undefined;
  /**
   * The user's logout generation when the token was issued (credential-store.ts): a logout bumps
   * it, which voids the token. Absent in tokens issued before generations existed (read as 0).
   */
  readonly generation?: number;
}

export interface IssuedToken {
  readonly token: string;
  readonly expiresAt: Date;
}

/**
 * What a user id may look like wherever it enters the gateway (a claim, a header). Rocket.Chat
 * ids are random alphanumerics (a few built-in users have names like `rocket.cat`); braces or
 * spaces would break the Redis hash tag, and length keeps keys and logs bounded.
 */
export const USER_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

const claimsSchema = z.object({
  sub: z.string().regex(USER_ID_PATTERN),
  username: z.string().min(1).max(256).optional(),
  typ: z.enum(['access', 'sse']),
  // Tokens without an expiry are never issued here; refusing them limits what a leaked signing
  // key or a hand-made token can do.
  exp: z.number(),
  iat: z.number().optional(),
  gen: z.number().int().nonnegative().optional(),
});

/** Issues the token returned by `POST /v1/sessions`. */
export function issueAccessToken(
  config: JwtConfig,
  subject: TokenSubject,
  clock: Clock = systemClock,
): IssuedToken {
  return issueToken(config, subject, 'access', config.ttlSeconds, clock);
}

/** Issues the short-lived token for `GET /v1/events?access_token=`. */
export function issueSseToken(
  config: JwtConfig,
  subject: TokenSubject,
  clock: Clock = systemClock,
): IssuedToken {
  return issueToken(config, subject, 'sse', config.sseQueryTokenTtlSeconds, clock);
}

/**
 * Verifies signature, algorithm, issuer, audience, expiry and claims.
 * @throws GatewayError `GW_ERR_UNAUTHENTICATED` with a message saying what to do.
 */
export function verifyToken(
  config: JwtConfig,
  token: string,
  expected: TokenType,
  clock: Clock = systemClock,
): TokenSubject {
  let payload: unknown;
  try {
    payload = jwt.verify(token, verificationKey(config), {
      algorithms: [config.algorithm],
      issuer: config.issuer,
      audience: config.audience,
      clockTimestamp: Math.floor(clock.now() / 1000),
    });
  } catch (err) {
    throw verificationError(err);
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) {
    throw createError('GW_ERR_UNAUTHENTICATED', 'The token does not carry the claims of a gateway token');
  }
  if (outlivesIssuedTokens(config, claims.data, clock)) {
    throw createError(
      'GW_ERR_UNAUTHENTICATED',
      'The token lives longer than this gateway issues tokens for; get a new one with POST /v1/sessions',
    );
  }
  if (claims.data.typ !== expected) {
    throw createError(
      'GW_ERR_UNAUTHENTICATED',
      expected === 'access'
        ? 'This is an SSE token: it is accepted only as ?access_token= on GET /v1/events'
        : 'Only an SSE token (from POST /v1/sessions/sse-token) is accepted as ?access_token=',
    );
  }
  return { userId: claims.data.sub, username: claims.data.username, generation: claims.data.gen ?? 0 };
}

// Clocks of replicas (and of a separate issuer) drift a little.
const CLOCK_SKEW_SECONDS = 60;

/**
 * A token may not outlive what this gateway issues for its type (`JWT_TTL_SECONDS`,
 * `SSE_QUERY_TOKEN_TTL_SECONDS`): a signed token with an `exp` centuries away (a leaked signing
 * key, a hand-made token) would otherwise be a credential for good.
 */
function outlivesIssuedTokens(
  config: JwtConfig,
  claims: { readonly typ: TokenType; readonly exp: number; readonly iat?: number | undefined },
  clock: Clock,
): boolean {
  const ttl = claims.typ === 'access' ? config.ttlSeconds : config.sseQueryTokenTtlSeconds;
  const now = clock.now() / 1000;
  if (claims.exp > now + ttl + CLOCK_SKEW_SECONDS) return true;
  return claims.iat !== undefined && (claims.iat > now + CLOCK_SKEW_SECONDS || claims.exp - claims.iat > ttl);
}

function issueToken(
  config: JwtConfig,
  subject: TokenSubject,
  typ: TokenType,
  ttlSeconds: number,
  clock: Clock,
): IssuedToken {
  const iat = Math.floor(clock.now() / 1000);
  const exp = iat + ttlSeconds;
  const payload = {
    typ,
    iat,
    exp,
    ...(subject.username === undefined ? {} : { username: subject.username }),
    ...(subject.generation === undefined ? {} : { gen: subject.generation }),
  };
  const token = jwt.sign(payload, signingKey(config), {
    algorithm: config.algorithm,
    subject: subject.userId,
    issuer: config.issuer,
    audience: config.audience,
  });
  return { token, expiresAt: new Date(exp * 1000) };
}

function signingKey(config: JwtConfig): KeyObject {
  if (config.algorithm === 'HS256') return keyObjectOf('secret', config.secret);
  if (config.privateKey === undefined) {
    throw createError(
      'GW_ERR_CONFIG',
      'this gateway only verifies tokens: set JWT_PRIVATE_KEY to let it issue them',
    );
  }
  return keyObjectOf('private', config.privateKey);
}

function verificationKey(config: JwtConfig): KeyObject {
  return config.algorithm === 'HS256'
    ? keyObjectOf('secret', config.secret)
    : keyObjectOf('public', config.publicKey);
}

/**
 * Key objects made once per key. Given a PEM or a secret string, jsonwebtoken builds an OpenSSL
 * key object on every call: 4-6 % of the CPU while SSE streams open, and native memory (outside
 * the heap, freed only by a later collection) for every request. A handful of keys at most, so
 * the cache is only cleared, never evicted one by one.
 */
const keyObjects = new Map<string, KeyObject>();
const MAX_KEY_OBJECTS = 16;

function keyObjectOf(kind: 'secret' | 'public' | 'private', material: string): KeyObject {
  const cacheKey = `${kind}\n${material}`;
  let key = keyObjects.get(cacheKey);
  if (!key) {
    key =
      kind === 'secret'
        ? createSecretKey(Buffer.from(material))
        : kind === 'public'
          ? createPublicKey(material)
          : createPrivateKey(material);
    if (keyObjects.size >= MAX_KEY_OBJECTS) keyObjects.clear();
    keyObjects.set(cacheKey, key);
  }
  return key;
}

function verificationError(err: unknown): GatewayError {
  if (err instanceof jwt.TokenExpiredError) {
    return createError(
      'GW_ERR_UNAUTHENTICATED',
      'The token has expired; get a new one with POST /v1/sessions',
      {
        cause: err,
      },
    );
  }
  if (err instanceof jwt.NotBeforeError) {
    return createError('GW_ERR_UNAUTHENTICATED', 'The token is not valid yet', { cause: err });
  }
  // Wrong signature, algorithm, issuer or audience, or not a JWT at all: one message for all, so a
  // caller probing with forged tokens learns nothing about which check failed.
  return createError('GW_ERR_UNAUTHENTICATED', 'The token is not a valid gateway token', { cause: err });
}
