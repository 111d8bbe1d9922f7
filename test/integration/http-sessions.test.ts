/**
 * `/v1/sessions` against the Rocket.Chat simulator: registering credentials by password or by
 * token, what is stored and announced, validation, upstream failures, SSE tokens, removal, and
 * that a password never reaches the log.
 */
import { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import type { GatewayCore } from '../../src/gateway.js';
import { parseControlMessage } from '../../src/sessions/control-plane.js';
import { freePort } from '../helpers/redis-server.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';

let sim: Simulator;
let t: TestGateway;
/** The gateway's URL, for supertest. */
let app: string;
let subscriber: Redis;
/** Control-plane notices seen on users' control channels: `<channel> <kind>`. */
const published: string[] = [];

/** The gateway in the API role (no sessions held) against `rocketchatUrl`; every log line kept. */
function startApiGateway(rocketchatUrl: string): Promise<TestGateway> {
  return startTestGateway({
    redisUrl: inject('redisUrl'),
    rocketchatUrl,
    env: { GATEWAY_ROLE: 'api' },
    logLevel: 'trace',
  });
}

/** The parts of the running gateway the assertions read. */
function coreOf(gateway: TestGateway): GatewayCore {
  return gateway.gateway.core;
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, restRateLimit: false });
  t = await startApiGateway(sim.url);
  app = t.url;
  subscriber = new Redis(inject('redisUrl'));
  subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => {
    const notice = parseControlMessage(message);
    if (notice) published.push(`${channel} ${notice.kind}`);
  });
  await subscriber.psubscribe(`${coreOf(t).config.redis.keyPrefix}:*:control`);
});

afterAll(async () => {
  subscriber?.disconnect();
  await t?.close();
  await sim?.close();
});

async function loginAlice(): Promise<{ token: string; userId: string }> {
  const res = await request(app)
    .post('/v1/sessions')
    .send({ username: 'alice', password: 'alice-pass' })
    .expect(201);
  return res.body as { token: string; userId: string };
}

describe('POST /v1/sessions', () => {
  it('exchanges a username and password for a stored resume token and a gateway token', async () => {
    const before = Date.now();
    const res = await request(app)
      .post('/v1/sessions')
      .send({ username: 'alice', password: 'alice-pass' })
      .expect(201)
      .expect('Content-Type', /json/);
    const body = res.body as { token: string; userId: string; username: string; expiresAt: string };
    expect(Object.keys(body).sort()).toEqual(['expiresAt', 'token', 'userId', 'username']);
    expect(body.username).toBe('alice');
    const expiresAtMs = Date.parse(body.expiresAt);
    expect(expiresAtMs).toBeGreaterThanOrEqual(before + 3600_000 - 1000);
    expect(expiresAtMs).toBeLessThanOrEqual(Date.now() + 3600_000);
    const claims = jwt.verify(
      body.token,
      (coreOf(t).config.jwt as { secret: string }).secret,
    ) as jwt.JwtPayload;
    expect(claims).toMatchObject({ sub: body.userId, username: 'alice', typ: 'access' });

    // The stored token is a working Rocket.Chat resume token, and the change is announced.
    const stored = await coreOf(t).credentials.load(body.userId);
    if (stored?.status !== 'valid') throw new Error(`expected a valid credential, got ${stored?.status}`);
    expect(stored.username).toBe('alice');
    await expect(
      coreOf(t).rest.me({ userId: body.userId, token: stored.token.reveal() }),
    ).resolves.toMatchObject({
      userId: body.userId,
    });
    const channel = coreOf(t).keys.userControlChannel(body.userId);
    await waitFor(() => published.includes(`${channel} credentials-changed`), 5000, 'the credentials notice');
  });

  it('accepts a Rocket.Chat user id and token, checked upstream', async () => {
    const auth = await coreOf(t).rest.loginWithPassword('bob', 'bob-pass');
    const res = await request(app)
      .post('/v1/sessions')
      .send({ userId: auth.userId, authToken: auth.token })
      .expect(201);
    expect(res.body).toMatchObject({ userId: auth.userId, username: 'bob' });
    const stored = await coreOf(t).credentials.load(auth.userId);
    expect(stored?.status === 'valid' && stored.token.reveal()).toBe(auth.token);
  });

  it('answers wrong credentials with one 401 that does not say which part was wrong', async () => {
    const wrongPassword = await request(app)
      .post('/v1/sessions')
      .send({ username: 'alice', password: 'not-her-password' })
      .expect(401);
    const unknownUser = await request(app)
      .post('/v1/sessions')
      .send({ username: 'nobody-by-this-name', password: 'whatever-pass' })
      .expect(401);
    expect(wrongPassword.body).toEqual({ error: 'GW_ERR_UNAUTHENTICATED', message: expect.any(String) });
    expect(unknownUser.body).toEqual(wrongPassword.body);

    const alice = await coreOf(t).rest.loginWithPassword('alice', 'alice-pass');
    const bob = await coreOf(t).rest.loginWithPassword('bob', 'bob-pass');
    const badToken = await request(app)
      .post('/v1/sessions')
      .send({ userId: alice.userId, authToken: 'not-a-real-token' })
      .expect(401);
    expect(badToken.body).toEqual(wrongPassword.body);
    // Bob's token with Alice's id: Rocket.Chat answers for Bob, which is not who was claimed.
    const mixed = await request(app)
      .post('/v1/sessions')
      .send({ userId: alice.userId, authToken: bob.token })
      .expect(401);
    expect(mixed.body.error).toBe('GW_ERR_UNAUTHENTICATED');
  });

  it('refuses malformed bodies with 400 GW_ERR_VALIDATION naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ username: 'alice' }, /^password: is required/],
      [{ password: 'alice-pass' }, /^username: is required/],
      [{ username: 'alice', password: 42 }, /^password: must be a string/],
      [{ username: '', password: 'x' }, /^username: must not be empty/],
      [{ userId: 'abc' }, /^authToken: is required/],
      [{ userId: 'has{brace}', authToken: 'x' }, /^userId: /],
      [{ username: 'alice', password: 'x', userId: 'u', authToken: 't' }, /not both/],
      [{}, /username.*password.*userId.*authToken/],
      [[1, 2], /JSON object/],
    ];
    for (const [body, message] of cases) {
      const res = await request(app)
        .post('/v1/sessions')
        .send(body as object);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toBe('GW_ERR_VALIDATION');
      expect(res.body.message).toMatch(message);
    }
    const missing = await request(app).post('/v1/sessions').send({ username: 'alice' });
    expect(missing.body.details).toEqual({ fields: [{ field: 'password', message: 'is required' }] });
  });

  it('refuses a body that is not JSON with 415, and no body with 400', async () => {
    const text = await request(app)
      .post('/v1/sessions')
      .set('Content-Type', 'text/plain')
      .send('username=alice&password=alice-pass')
      .expect(415);
    expect(text.body.error).toBe('GW_ERR_UNSUPPORTED_MEDIA_TYPE');
    const none = await request(app).post('/v1/sessions').expect(400);
    expect(none.body.error).toBe('GW_ERR_VALIDATION');
  });

  it('answers 503 GW_ERR_UPSTREAM_UNAVAILABLE when Rocket.Chat cannot be reached', async () => {
    const offline = await startApiGateway(`http://127.0.0.1:${await freePort()}`);
    try {
      const res = await request(offline.url)
        .post('/v1/sessions')
        .send({ username: 'alice', password: 'alice-pass' })
        .expect(503);
      expect(res.body).toEqual({ error: 'GW_ERR_UPSTREAM_UNAVAILABLE', message: expect.any(String) });
    } finally {
      await offline.close();
    }
  });

  it('makes an invalid credential valid again', async () => {
    const { userId } = await loginAlice();
    await coreOf(t).credentials.markInvalid(userId, 'revoked in a test');
    expect(await coreOf(t).credentials.status(userId)).toBe('invalid');
    await loginAlice();
    expect(await coreOf(t).credentials.status(userId)).toBe('valid');
  });
});

describe('POST /v1/sessions/sse-token', () => {
  it('issues a short-lived SSE token to an authenticated caller', async () => {
    const { token, userId } = await loginAlice();
    const res = await request(app)
      .post('/v1/sessions/sse-token')
      .set('Authorization', `Bearer ${token}`)
      .expect(201);
    const body = res.body as { token: string; expiresAt: string };
    expect(Object.keys(body).sort()).toEqual(['expiresAt', 'token']);
    const ttlMs = Date.parse(body.expiresAt) - Date.now();
    expect(ttlMs).toBeGreaterThan(290_000);
    expect(ttlMs).toBeLessThanOrEqual(300_000);
    const claims = jwt.decode(body.token) as jwt.JwtPayload;
    expect(claims).toMatchObject({ sub: userId, typ: 'sse' });
  });

  it('requires authentication, and does not take an SSE token as one', async () => {
    await request(app).post('/v1/sessions/sse-token').expect(401);
    const { token } = await loginAlice();
    const sse = await request(app)
      .post('/v1/sessions/sse-token')
      .set('Authorization', `Bearer ${token}`)
      .expect(201);
    await request(app)
      .post('/v1/sessions/sse-token')
      .set('Authorization', `Bearer ${sse.body.token}`)
      .expect(401);
    await request(app).post(`/v1/sessions/sse-token?access_token=${sse.body.token}`).expect(401);
  });
});

describe('DELETE /v1/sessions', () => {
  it('ends the stored credential and announces it', async () => {
    const auth = await coreOf(t).rest.loginWithPassword('bob', 'bob-pass');
    const { body } = await request(app)
      .post('/v1/sessions')
      .send({ userId: auth.userId, authToken: auth.token })
      .expect(201);
    const channel = coreOf(t).keys.userControlChannel(auth.userId);
    published.length = 0;
    await request(app).delete('/v1/sessions').set('Authorization', `Bearer ${body.token}`).expect(204);
    expect(await coreOf(t).credentials.load(auth.userId)).toMatchObject({
      status: 'invalid',
      reason: 'logout',
    });
    await waitFor(() => published.includes(`${channel} credentials-changed`), 5000, 'the credentials notice');
  });

  it('works while the stored credential is invalid, and requires authentication', async () => {
    const { token, userId } = await loginAlice();
    await coreOf(t).credentials.markInvalid(userId, 'revoked in a test');
    await request(app).delete('/v1/sessions').set('Authorization', `Bearer ${token}`).expect(204);
    expect(await coreOf(t).credentials.status(userId)).toBe('invalid');
    await request(app).delete('/v1/sessions').expect(401);
    // The token ended with the logout.
    await request(app).delete('/v1/sessions').set('Authorization', `Bearer ${token}`).expect(401);
  });
});

describe('logs', () => {
  it('never contain a password, whether the login succeeds, fails or is malformed', async () => {
    const fresh = await startApiGateway(sim.url);
    try {
      const freshApp = fresh.url;
      await request(freshApp)
        .post('/v1/sessions')
        .send({ username: 'alice', password: 'alice-pass' })
        .expect(201);
      await request(freshApp)
        .post('/v1/sessions')
        .send({ username: 'alice', password: 'Wr0ng-PassPhrase!' })
        .expect(401);
      await request(freshApp)
        .post('/v1/sessions')
        .send({ username: 42, password: 'N0t-Logged-Either' })
        .expect(400);
      await request(freshApp)
        .post('/v1/sessions')
        .set('Content-Type', 'application/json')
        .send('{"username":"alice","password":"Br0ken-Json-Pass"')
        .expect(400);
      const offline = await startApiGateway(`http://127.0.0.1:${await freePort()}`);
      await request(offline.url)
        .post('/v1/sessions')
        .send({ username: 'alice', password: 'Unreachable-Pass' })
        .expect(503);
      await offline.close();

      const all = [...fresh.logLines, ...offline.logLines].join('\n');
      expect(fresh.logLines.length).toBeGreaterThan(0);
      for (const secret of [
        'alice-pass',
        'Wr0ng-PassPhrase!',
        'N0t-Logged-Either',
        'Br0ken-Json-Pass',
        'Unreachable-Pass',
      ]) {
        expect(all).not.toContain(secret);
      }
      expect(fresh.logLines.some((line) => line.includes('Rocket.Chat credentials registered'))).toBe(true);
    } finally {
      await fresh.close();
    }
  });
});
