import { createHmac, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import type { JwtConfig } from '../../src/config/index.js';
import { type GatewayError, isGatewayError } from '../../src/errors.js';
import { issueAccessToken, issueSseToken, type TokenType, verifyToken } from '../../src/http/auth/index.js';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const START_MS = 1_700_000_000_000;
const alice = { userId: 'aliceId123', username: 'alice' };

const common = {
  issuer: 'gw-test',
  audience: 'gw-test-clients',
  ttlSeconds: 3600,
  sseQueryTokenTtlSeconds: 300,
  isEphemeral: false,
};
const hs256: JwtConfig = { algorithm: 'HS256', secret: SECRET, ...common };

function keyPair(kind: 'rsa' | 'ec'): { publicKey: string; privateKey: string } {
  const pair =
    kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

const rsa = keyPair('rsa');
const ec = keyPair('ec');

/** The GatewayError `fn` throws. */
function failure(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    if (isGatewayError(err)) return err;
    throw err;
  }
  throw new Error('expected a GatewayError, nothing was thrown');
}

function refused(token: string, config: JwtConfig = hs256, type: TokenType = 'access', nowMs = START_MS) {
  const error = failure(() => verifyToken(config, token, type, createManualClock(nowMs)));
  expect(error.code).toBe('GW_ERR_UNAUTHENTICATED');
  expect(error.status).toBe(401);
  return error;
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A token signed with `SECRET` by hand, with claims the gateway would not issue. */
function handSigned(claims: Record<string, unknown>, options: jwt.SignOptions = {}): string {
  const iat = Math.floor(START_MS / 1000);
  return jwt.sign({ iat, ...claims }, SECRET, {
    algorithm: 'HS256',
    issuer: hs256.issuer,
    audience: hs256.audience,
    ...options,
  });
}

describe('gateway tokens', () => {
  it('issues an access token that verifies, with its expiry from JWT_TTL_SECONDS', () => {
    const clock = createManualClock(START_MS);
    const issued = issueAccessToken(hs256, alice, clock);
    expect(issued.expiresAt.getTime()).toBe(START_MS + 3600 * 1000);
    expect(verifyToken(hs256, issued.token, 'access', clock)).toEqual({ ...alice, generation: 0 });
    const claims = jwt.decode(issued.token) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: 'aliceId123', username: 'alice', typ: 'access', iss: 'gw-test' });
    expect(claims['aud']).toBe('gw-test-clients');
  });

  it('issues an SSE token that lives SSE_QUERY_TOKEN_TTL_SECONDS and is accepted only as one', () => {
    const clock = createManualClock(START_MS);
    const issued = issueSseToken(hs256, alice, clock);
    expect(issued.expiresAt.getTime()).toBe(START_MS + 300 * 1000);
    expect(verifyToken(hs256, issued.token, 'sse', clock)).toEqual({ ...alice, generation: 0 });
    expect(refused(issued.token).message).toMatch(/SSE token/);
    const access = issueAccessToken(hs256, alice, clock);
    refused(access.token, hs256, 'sse');
  });

  it('refuses a token once it has expired', () => {
    const issued = issueAccessToken(hs256, alice, createManualClock(START_MS));
    const later = START_MS + 3600 * 1000;
    expect(verifyToken(hs256, issued.token, 'access', createManualClock(later - 1000))).toEqual({
      ...alice,
      generation: 0,
    });
    expect(refused(issued.token, hs256, 'access', later).message).toMatch(/expired/);
  });

  it('refuses another issuer, another audience and another secret', () => {
    const exp = Math.floor(START_MS / 1000) + 60;
    refused(handSigned({ sub: 'u1', typ: 'access', exp }, { issuer: 'someone-else' }));
    refused(handSigned({ sub: 'u1', typ: 'access', exp }, { audience: 'someone-else' }));
    const otherSecret = jwt.sign({ sub: 'u1', typ: 'access', exp }, `${SECRET}-other`, {
      issuer: hs256.issuer,
      audience: hs256.audience,
    });
    refused(otherSecret);
    // The control: the same claims with the right secret pass.
    expect(
      verifyToken(
        hs256,
        handSigned({ sub: 'u1', typ: 'access', exp }),
        'access',
        createManualClock(START_MS),
      ),
    ).toEqual({ userId: 'u1', username: undefined, generation: 0 });
  });

  it('refuses alg none, an RS256 token when HS256 is configured, and HS256 signed with the public key', () => {
    const exp = Math.floor(START_MS / 1000) + 60;
    const claims = { sub: 'u1', typ: 'access', exp, iss: hs256.issuer, aud: hs256.audience };
    refused(`${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`);
    refused(jwt.sign(claims, rsa.privateKey, { algorithm: 'RS256' }));

    // Algorithm confusion: an attacker who knows the RS256 public key signs HS256 with it.
    const rs256: JwtConfig = {
      algorithm: 'RS256',
      publicKey: rsa.publicKey,
      privateKey: undefined,
      ...common,
    };
    const forged = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url(claims)}`;
    const signature = createHmac('sha256', rsa.publicKey).update(forged).digest('base64url');
    refused(`${forged}.${signature}`, rs256);
  });

  it('issues and verifies RS256 and ES256 tokens with a key pair', () => {
    const clock = createManualClock(START_MS);
    for (const [algorithm, pair] of [
      ['RS256', rsa],
      ['ES256', ec],
    ] as const) {
      const config: JwtConfig = { algorithm, ...pair, ...common };
      const issued = issueAccessToken(config, alice, clock);
      expect(jwt.decode(issued.token, { complete: true })?.header.alg).toBe(algorithm);
      expect(verifyToken(config, issued.token, 'access', clock)).toEqual({ ...alice, generation: 0 });
      // A verify-only replica (public key alone) accepts it too.
      expect(verifyToken({ ...config, privateKey: undefined }, issued.token, 'access', clock)).toEqual({
        ...alice,
        generation: 0,
      });
    }
  });

  it('refuses to issue without a private key, as a configuration error', () => {
    const verifyOnly: JwtConfig = {
      algorithm: 'RS256',
      publicKey: rsa.publicKey,
      privateKey: undefined,
      ...common,
    };
    const error = failure(() => issueAccessToken(verifyOnly, alice));
    expect(error.code).toBe('GW_ERR_CONFIG');
  });

  it('refuses tokens without an expiry, a type, or with a user id that is not one', () => {
    const exp = Math.floor(START_MS / 1000) + 60;
    refused(handSigned({ sub: 'u1', typ: 'access' }));
    refused(handSigned({ sub: 'u1', exp }));
    refused(handSigned({ sub: 'u1', typ: 'refresh', exp }));
    refused(handSigned({ sub: 'bad{id}', typ: 'access', exp }));
    refused(handSigned({ typ: 'access', exp }));
    refused('not-a-jwt');
    refused('');
  });

  it('refuses a token that lives longer than the gateway issues tokens of its type for', () => {
    const now = Math.floor(START_MS / 1000);
    const ok = (claims: Record<string, unknown>, type: TokenType = 'access') =>
      verifyToken(hs256, handSigned(claims), type, createManualClock(START_MS));
    expect(ok({ sub: 'u1', typ: 'access', exp: now + 3600 }).userId).toBe('u1');
    expect(ok({ sub: 'u1', typ: 'sse', exp: now + 300 }, 'sse').userId).toBe('u1');
    expect(refused(handSigned({ sub: 'u1', typ: 'access', exp: 1e20 })).message).toMatch(/lives longer/);
    refused(handSigned({ sub: 'u1', typ: 'access', exp: now + 7200 }));
    refused(handSigned({ sub: 'u1', typ: 'sse', exp: now + 3600 }), hs256, 'sse');
    // Issued "in the past" with a long life, or "in the future": refused too.
    refused(handSigned({ sub: 'u1', typ: 'access', iat: now - 86_400, exp: now + 60 }));
    refused(handSigned({ sub: 'u1', typ: 'access', iat: now + 3600, exp: now + 3600 }));
  });
});
