/**
 * The `authenticate` middleware through real requests: gateway JWTs (and the forgeries a gateway
 * must refuse), Rocket.Chat's X-User-Id/X-Auth-Token pair with its short cache, the SSE query
 * token where it is allowed and only there, and revoked credentials.
 */

import { generateKeyPairSync } from 'node:crypto';
import express, { type Express } from 'express';
import type { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import { createApp } from '../../src/http/app.js';
import { createHttpAuth } from '../../src/http/auth/index.js';
import { createSessionsRouter } from '../../src/http/routes/sessions.js';
import { parseControlMessage } from '../../src/sessions/control-plane.js';
import { createHttpTestContext, type HttpTestContext } from '../helpers/http-context.js';
import { waitFor } from '../helpers/wait-for.js';

let sim: Simulator;
let t: HttpTestContext;
let clock: ManualClock;
let app: Express;
let secret: string;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, restRateLimit: false });
  clock = createManualClock(Date.now());
  t = await createHttpTestContext({ redisUrl: inject('redisUrl'), rocketchatUrl: sim.url, clock });
  secret = (t.config.jwt as { secret: string }).secret;
  // One authentication for the app, as the gateway builds it: its caches span every route.
  const auth = createHttpAuth(t.ctx);
  const router = express.Router();
  router.get('/whoami', auth.authenticate(), (req, res) => {
    res.json(req.principal);
  });
  router.get('/events', auth.authenticate({ allowQueryToken: true }), (req, res) => {
    res.json(req.principal);
  });
  app = createApp(t.ctx, [
    { path: '/v1/sessions', router: createSessionsRouter(t.ctx, auth) },
    { path: '/v1', router },
  ]);
});

afterAll(async () => {
  await t?.close();
  await sim?.close();
});

async function login(username: string): Promise<{ token: string; userId: string }> {
  const res = await request(app)
    .post('/v1/sessions')
    .send({ username, password: `${username}-pass` })
    .expect(201);
  return res.body as { token: string; userId: string };
}

async function sseToken(accessToken: string): Promise<string> {
  const res = await request(app)
    .post('/v1/sessions/sse-token')
    .set('Authorization', `Bearer ${accessToken}`)
    .expect(201);
  return (res.body as { token: string }).token;
}

function nowSeconds(): number {
  return Math.floor(clock.now() / 1000);
}

/** Claims as the gateway would issue them, for tokens built by hand. */
function claims(userId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sub: userId,
    username: 'alice',
    typ: 'access',
    iat: nowSeconds(),
    exp: nowSeconds() + 600,
    iss: t.config.jwt.issuer,
    aud: t.config.jwt.audience,
    ...overrides,
  };
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function expectUnauthenticated(req: request.Test, message?: RegExp): Promise<void> {
  const res = await req.expect(401);
  expect(res.body.error).toBe('GW_ERR_UNAUTHENTICATED');
  expect(res.headers['www-authenticate']).toBe('Bearer');
  if (message) expect(res.body.message).toMatch(message);
}

describe('gateway JWTs', () => {
  it('accept the token from POST /v1/sessions', async () => {
    const { token, userId } = await login('alice');
    const res = await request(app).get('/v1/whoami').set('Authorization', `Bearer ${token}`).expect(200);
    expect(res.body).toEqual({ userId, username: 'alice', via: 'jwt', generation: 0 });
    // The scheme is case-insensitive (RFC 7235).
    await request(app).get('/v1/whoami').set('Authorization', `bearer ${token}`).expect(200);
  });

  it('refuse a request without credentials, saying what to send', async () => {
    await expectUnauthenticated(request(app).get('/v1/whoami'), /Authorization: Bearer/);
  });

  it('refuse other schemes and malformed Bearer values', async () => {
    await expectUnauthenticated(
      request(app).get('/v1/whoami').set('Authorization', 'Basic YWxpY2U6YWxpY2UtcGFzcw=='),
    );
    await expectUnauthenticated(request(app).get('/v1/whoami').set('Authorization', 'Bearer'));
    await expectUnauthenticated(request(app).get('/v1/whoami').set('Authorization', 'Bearer a b'));
  });

  it('refuse an expired token', async () => {
    const { token } = await login('alice');
    await request(app).get('/v1/whoami').set('Authorization', `Bearer ${token}`).expect(200);
    clock.advance(t.config.jwt.ttlSeconds * 1000 + 1000);
    await expectUnauthenticated(
      request(app).get('/v1/whoami').set('Authorization', `Bearer ${token}`),
      /expired/,
    );
  });

  it('refuse another issuer, another audience and another secret', async () => {
    const { userId } = await login('alice');
    const forged = [
      jwt.sign(claims(userId, { iss: 'someone-else' }), secret),
      jwt.sign(claims(userId, { aud: 'someone-else' }), secret),
      jwt.sign(claims(userId), `${secret}-but-not-quite`),
    ];
    for (const token of forged) {
      await expectUnauthenticated(request(app).get('/v1/whoami').set('Authorization', `Bearer ${token}`));
    }
    // The control: the same claims signed properly pass.
    await request(app)
      .get('/v1/whoami')
      .set('Authorization', `Bearer ${jwt.sign(claims(userId), secret)}`)
      .expect(200);
  });

  it('refuse alg none and an RS256 token when HS256 is configured', async () => {
    const { userId } = await login('alice');
    const none = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims(userId))}.`;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rs256 = jwt.sign(claims(userId), privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, {
      algorithm: 'RS256',
    });
    for (const token of [none, rs256]) {
      await expectUnauthenticated(request(app).get('/v1/whoami').set('Authorization', `Bearer ${token}`));
    }
  });

  it('refuse a user id that could not be a key, even when signed', async () => {
    const token = jwt.sign(claims('evil}id'), secret);
    await expectUnauthenticated(request(app).get('/v1/whoami').set('Authorization', `Bearer ${token}`));
  });
});

describe('revoked Rocket.Chat credentials', () => {
  it('turn JWT requests into 401 GW_ERR_CREDENTIALS_INVALID until the user registers again', async () => {
    const { token, userId } = await login('carol');
    await t.ctx.credentials.markInvalid(userId, 'token revoked upstream');
    const res = await request(app).get('/v1/whoami').set('Authorization', `Bearer ${token}`).expect(401);
    expect(res.body.error).toBe('GW_ERR_CREDENTIALS_INVALID');
    expect(res.body.message).toContain('POST /v1/sessions');

    const again = await login('carol');
    await request(app).get('/v1/whoami').set('Authorization', `Bearer ${token}`).expect(200);
    await request(app).get('/v1/whoami').set('Authorization', `Bearer ${again.token}`).expect(200);
  });
});

describe('X-User-Id and X-Auth-Token', () => {
  it('are checked upstream, stored as the user credential, and cached briefly', async () => {
    const auth = await t.ctx.rest.loginWithPassword('bob', 'bob-pass');
    await t.ctx.credentials.remove(auth.userId);
    const notices: string[] = [];
    const subscriber: Redis = t.redis.duplicate();
    subscriber.on('message', (_channel: string, message: string) =>
      notices.push(parseControlMessage(message)?.kind ?? message),
    );
    await subscriber.subscribe(t.ctx.keys.userControlChannel(auth.userId));
    try {
      const res = await request(app)
        .get('/v1/whoami')
        .set('X-User-Id', auth.userId)
        .set('X-Auth-Token', auth.token)
        .expect(200);
      expect(res.body).toEqual({ userId: auth.userId, username: 'bob', via: 'rocketchat-headers' });
      const stored = await t.ctx.credentials.load(auth.userId);
      expect(stored?.status === 'valid' && stored.token.reveal()).toBe(auth.token);
      await waitFor(() => notices.includes('credentials-changed'), 5000, 'the credentials notice');

      // Rocket.Chat forgets the token; within the cache lifetime the gateway does not ask again.
      sim.control.revokeTokens('bob');
      clock.advance(29_000);
      await request(app)
        .get('/v1/whoami')
        .set('X-User-Id', auth.userId)
        .set('X-Auth-Token', auth.token)
        .expect(200);
      clock.advance(2_000);
      await expectUnauthenticated(
        request(app).get('/v1/whoami').set('X-User-Id', auth.userId).set('X-Auth-Token', auth.token),
      );
    } finally {
      subscriber.disconnect();
    }
  });

  it('does not store the same token again on every cache miss', async () => {
    const auth = await t.ctx.rest.loginWithPassword('alice', 'alice-pass');
    const headers = { 'X-User-Id': auth.userId, 'X-Auth-Token': auth.token };
    await request(app).get('/v1/whoami').set(headers).expect(200);
    const first = await t.ctx.credentials.load(auth.userId);
    clock.advance(31_000);
    await request(app).get('/v1/whoami').set(headers).expect(200);
    const second = await t.ctx.credentials.load(auth.userId);
    expect(second?.revision).toBe(first?.revision);
  });

  it('refuse a wrong token, another user id, and one header alone', async () => {
    const alice = await t.ctx.rest.loginWithPassword('alice', 'alice-pass');
    const bob = await t.ctx.rest.loginWithPassword('bob', 'bob-pass');
    await expectUnauthenticated(
      request(app).get('/v1/whoami').set('X-User-Id', alice.userId).set('X-Auth-Token', 'wrong-token'),
    );
    await expectUnauthenticated(
      request(app).get('/v1/whoami').set('X-User-Id', alice.userId).set('X-Auth-Token', bob.token),
    );
    await expectUnauthenticated(request(app).get('/v1/whoami').set('X-User-Id', alice.userId), /together/);
    await expectUnauthenticated(request(app).get('/v1/whoami').set('X-Auth-Token', alice.token), /together/);
    await expectUnauthenticated(
      request(app).get('/v1/whoami').set('X-User-Id', 'bad id{}').set('X-Auth-Token', alice.token),
      /malformed/,
    );
  });
});

describe('?access_token=', () => {
  it('accepts an SSE token where allowed', async () => {
    const { token, userId } = await login('alice');
    const sse = await sseToken(token);
    const res = await request(app).get(`/v1/events?access_token=${sse}`).expect(200);
    expect(res.body).toEqual({ userId, username: 'alice', via: 'query-token', generation: 0 });
  });

  it('is refused where not allowed, and only an SSE token is accepted', async () => {
    const { token } = await login('alice');
    const sse = await sseToken(token);
    await expectUnauthenticated(request(app).get(`/v1/whoami?access_token=${sse}`), /GET \/v1\/events/);
    // A long-lived access token does not belong in a URL.
    await expectUnauthenticated(request(app).get(`/v1/events?access_token=${token}`), /SSE token/);
    // Nor is the SSE token a bearer token.
    await expectUnauthenticated(
      request(app).get('/v1/whoami').set('Authorization', `Bearer ${sse}`),
      /SSE token/,
    );
    await expectUnauthenticated(request(app).get(`/v1/events?access_token=${sse}&access_token=${sse}`));
  });

  it('expires after SSE_QUERY_TOKEN_TTL_SECONDS', async () => {
    const { token } = await login('alice');
    const sse = await sseToken(token);
    clock.advance(t.config.jwt.sseQueryTokenTtlSeconds * 1000 + 1000);
    await expectUnauthenticated(request(app).get(`/v1/events?access_token=${sse}`), /expired/);
  });
});
