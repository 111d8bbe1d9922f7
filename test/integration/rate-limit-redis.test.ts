/**
 * The REST rate limit against a real Redis: the sliding window, the exactness of `Retry-After`,
 * one count shared by every replica, the 429 body and headers through the real app, counting
 * per principal, and letting requests through when Redis cannot be asked.
 */
import express, { type Router } from 'express';
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import { createApp } from '../../src/http/app.js';
import { createHttpAuth, issueAccessToken } from '../../src/http/auth/index.js';
import {
  chainHandlers,
  createRateLimit,
  RedisRateLimiter,
  slidingWindowRetryAfterMs,
} from '../../src/http/rate-limit.js';
import { createKeys } from '../../src/redis/keys.js';
import { createHttpTestContext, type HttpTestContext } from '../helpers/http-context.js';
import { freePort, startPrivateRedis } from '../helpers/redis-server.js';

const WINDOW_MS = 60_000;
// A window boundary, so tests know where they stand in the window.
const START_MS = Math.ceil(1_750_000_000_000 / WINDOW_MS) * WINDOW_MS;

let redis: Redis;
let prefixCounter = 0;

function freshKeys(): ReturnType<typeof createKeys> {
  prefixCounter += 1;
  return createKeys(`t-rl-${process.pid}-${prefixCounter}`);
}

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});

afterAll(async () => {
  const found = await redis.keys(`t-rl-${process.pid}-*`);
  if (found.length > 0) await redis.del(...found);
  await redis.quit();
});

describe('slidingWindowRetryAfterMs', () => {
  it('waits for enough of the previous window to slide out', () => {
    // 10 used in the previous window, 5 now, limit 10: allowed once floor(10 * (W - e) / W) < 5,
    // i.e. e > W / 2.
    expect(
      slidingWindowRetryAfterMs({ previous: 10, current: 5, limit: 10, windowMs: 1000, elapsedMs: 100 }),
    ).toBe(401);
  });

  it('runs into the next window when the current one alone is full', () => {
    // Next window: previous = 10, allowed once floor(10 * (W - e') / W) < 10, i.e. e' >= 1.
    expect(
      slidingWindowRetryAfterMs({ previous: 0, current: 10, limit: 10, windowMs: 1000, elapsedMs: 300 }),
    ).toBe(701);
  });

  it('is never below 1 ms', () => {
    expect(
      slidingWindowRetryAfterMs({ previous: 3, current: 1, limit: 2, windowMs: 1000, elapsedMs: 999 }),
    ).toBeGreaterThanOrEqual(1);
  });
});

describe('RedisRateLimiter', () => {
  let clock: ManualClock;

  function limiter(limit: number, connection: Redis = redis, keys = freshKeys()): RedisRateLimiter {
    return new RedisRateLimiter({ redis: connection, keys, limit, windowMs: WINDOW_MS, clock });
  }

  beforeAll(() => {
    clock = createManualClock(START_MS);
  });

  it('allows `limit` requests, then refuses without counting the refusals', async () => {
    const keys = freshKeys();
    const rl = limiter(3, redis, keys);
    const decisions = [];
    for (let i = 0; i < 5; i++) decisions.push(await rl.consume('api:user:alice'));
    expect(decisions.map((d) => d.isAllowed)).toEqual([true, true, true, false, false]);
    expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0, 0]);
    const windowIndex = Math.floor(clock.now() / WINDOW_MS);
    const key = keys.rateLimitWindow('api:user:alice', windowIndex);
    expect(await redis.get(key)).toBe('3');
    // The counter expires two windows after it opened, so Redis does not keep idle callers.
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(WINDOW_MS);
    expect(ttl).toBeLessThanOrEqual(2 * WINDOW_MS);
  });

  it('keeps callers apart', async () => {
    const rl = limiter(1);
    expect((await rl.consume('api:user:alice')).isAllowed).toBe(true);
    expect((await rl.consume('api:user:alice')).isAllowed).toBe(false);
    expect((await rl.consume('api:user:bob')).isAllowed).toBe(true);
  });

  it('slides: the previous window still counts by the share it overlaps', async () => {
    const local = createManualClock(START_MS + 10);
    const rl = new RedisRateLimiter({
      redis,
      keys: freshKeys(),
      limit: 10,
      windowMs: WINDOW_MS,
      clock: local,
    });
    for (let i = 0; i < 10; i++) expect((await rl.consume('s')).isAllowed).toBe(true);
    // A quarter into the next window, 75% of the previous 10 (7) still count: 3 more fit.
    local.advance(WINDOW_MS - 10 + WINDOW_MS / 4);
    const next = [];
    for (let i = 0; i < 4; i++) next.push((await rl.consume('s')).isAllowed);
    expect(next).toEqual([true, true, true, false]);
  });

  it('tells the exact wait: refused 1 ms before Retry-After, allowed at it', async () => {
    const local = createManualClock(START_MS + 5_000);
    const rl = new RedisRateLimiter({
      redis,
      keys: freshKeys(),
      limit: 5,
      windowMs: WINDOW_MS,
      clock: local,
    });
    for (let i = 0; i < 5; i++) await rl.consume('s');
    // Into the next window, 5 s in: floor(5 * 55/60) = 4 of the previous 5 still count.
    local.advance(WINDOW_MS);
    expect((await rl.consume('s')).isAllowed).toBe(true);
    const refused = await rl.consume('s');
    expect(refused.isAllowed).toBe(false);
    // Allowed once floor(5 * (60000 - e) / 60000) + 1 < 5, i.e. at e = 12001 ms.
    expect(refused.retryAfterMs).toBe(12_001 - 5_000);
    local.advance(refused.retryAfterMs - 1);
    expect((await rl.consume('s')).isAllowed).toBe(false);
    local.advance(1);
    expect((await rl.consume('s')).isAllowed).toBe(true);
  });

  it('holds across replicas: two processes share one count', async () => {
    const keys = freshKeys();
    const other = new Redis(inject('redisUrl'));
    try {
      const replicaA = limiter(4, redis, keys);
      const replicaB = limiter(4, other, keys);
      const results = await Promise.all([
        replicaA.consume('api:user:carol'),
        replicaB.consume('api:user:carol'),
        replicaA.consume('api:user:carol'),
        replicaB.consume('api:user:carol'),
        replicaA.consume('api:user:carol'),
        replicaB.consume('api:user:carol'),
      ]);
      expect(results.filter((d) => d.isAllowed)).toHaveLength(4);
    } finally {
      await other.quit();
    }
  });

  it('loads its script again after SCRIPT FLUSH (EVALSHA falls back to EVAL)', async () => {
    // A Redis of its own: flushing the shared one's scripts would disturb tests running beside.
    const own = await startPrivateRedis();
    const connection = new Redis(own.url);
    try {
      const rl = limiter(2, connection);
      await rl.consume('s');
      await connection.script('FLUSH');
      expect((await rl.consume('s')).isAllowed).toBe(true);
      expect((await rl.consume('s')).isAllowed).toBe(false);
    } finally {
      connection.disconnect();
      await own.close();
    }
  });

  it('hashes subjects that could break a key', async () => {
    const keys = freshKeys();
    const rl = limiter(1, redis, keys);
    expect((await rl.consume('hook:{evil} id')).isAllowed).toBe(true);
    expect((await rl.consume('hook:{evil} id')).isAllowed).toBe(false);
    const found = await redis.keys(`${keys.prefix}:*`);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^t-rl-\d+-\d+:\{rl:h:[A-Za-z0-9_-]+\}:\d+$/);
  });
});

describe('createRateLimit in the app', () => {
  let t: HttpTestContext;
  let app: express.Express;
  let clock: ManualClock;

  function protectedRouter(ctx: HttpTestContext['ctx']): Router {
    const { authenticate } = createHttpAuth(ctx);
    const router = express.Router();
    router.get('/thing', authenticate(), createRateLimit(ctx), (_req, res) => {
      res.json({ ok: true });
    });
    router.get(
      '/chained',
      chainHandlers(authenticate(), createRateLimit(ctx, { policy: 'other' })),
      (_req, res) => {
        res.json({ ok: true });
      },
    );
    router.post('/login', createRateLimit(ctx, { policy: 'login', limit: 2 }), (_req, res) => {
      res.json({ ok: true });
    });
    return router;
  }

  function tokenFor(userId: string): string {
    return issueAccessToken(t.ctx.config.jwt, { userId, username: userId }, clock).token;
  }

  beforeAll(async () => {
    clock = createManualClock(START_MS + 1_000);
    t = await createHttpTestContext({
      redisUrl: inject('redisUrl'),
      rocketchatUrl: `http://127.0.0.1:${await freePort()}`,
      env: { RATE_LIMIT_PER_MINUTE: '3' },
      clock,
    });
    app = createApp(t.ctx, [{ path: '/v1/test', router: protectedRouter(t.ctx) }]);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('counts per principal and answers 429 with Retry-After and the error body', async () => {
    const alice = tokenFor('aliceUserId1');
    for (let i = 0; i < 3; i++) {
      const ok = await request(app).get('/v1/test/thing').set('Authorization', `Bearer ${alice}`).expect(200);
      expect(ok.headers['ratelimit-limit']).toBe('3');
      expect(ok.headers['ratelimit-remaining']).toBe(String(2 - i));
      expect(Number(ok.headers['ratelimit-reset'])).toBe(59);
    }
    const refused = await request(app)
      .get('/v1/test/thing')
      .set('Authorization', `Bearer ${alice}`)
      .expect(429);
    expect(refused.body).toEqual({
      error: 'GW_ERR_RATE_LIMITED',
      message: expect.stringContaining('At most 3 requests per minute'),
      retryAfterMs: expect.any(Number),
    });
    // The current window is full: the wait is the rest of it, rounded up to whole seconds.
    expect(refused.headers['retry-after']).toBe('60');
    expect(refused.headers['ratelimit-remaining']).toBe('0');

    // Another user is not affected, nor is the same user under another policy.
    const bob = tokenFor('bobUserId22');
    await request(app).get('/v1/test/thing').set('Authorization', `Bearer ${bob}`).expect(200);
    await request(app).get('/v1/test/chained').set('Authorization', `Bearer ${alice}`).expect(200);
  });

  it('lets a refused caller in again once the window has slid', async () => {
    const dave = tokenFor('daveUserId33');
    for (let i = 0; i < 3; i++) {
      await request(app).get('/v1/test/thing').set('Authorization', `Bearer ${dave}`).expect(200);
    }
    const refused = await request(app)
      .get('/v1/test/thing')
      .set('Authorization', `Bearer ${dave}`)
      .expect(429);
    clock.advance(Number(refused.headers['retry-after']) * 1000);
    await request(app).get('/v1/test/thing').set('Authorization', `Bearer ${dave}`).expect(200);
  });

  it('runs after authentication: an unauthenticated request is 401, not counted', async () => {
    const res = await request(app).get('/v1/test/thing').expect(401);
    expect(res.headers['ratelimit-limit']).toBeUndefined();
    const chained = await request(app).get('/v1/test/chained').expect(401);
    expect(chained.body.error).toBe('GW_ERR_UNAUTHENTICATED');
  });

  it('counts unauthenticated routes by client address', async () => {
    await request(app).post('/v1/test/login').expect(200);
    await request(app).post('/v1/test/login').expect(200);
    const refused = await request(app).post('/v1/test/login').expect(429);
    expect(refused.body.error).toBe('GW_ERR_RATE_LIMITED');
    const keys = await t.redis.keys(`${t.config.redis.keyPrefix}:{rl:login:ip:*`);
    expect(keys).toHaveLength(1);
  });

  it('behind an ingress (TRUST_PROXY=1) counts each client by X-Forwarded-For; untrusted, the header is ignored', async () => {
    const behind = await createHttpTestContext({
      redisUrl: inject('redisUrl'),
      rocketchatUrl: `http://127.0.0.1:${await freePort()}`,
      env: { TRUST_PROXY: '1' },
    });
    try {
      const proxied = createApp(behind.ctx, [{ path: '/v1/test', router: protectedRouter(behind.ctx) }]);
      const from = (address: string) =>
        request(proxied).post('/v1/test/login').set('X-Forwarded-For', address);
      await from('203.0.113.7').expect(200);
      await from('203.0.113.7').expect(200);
      await from('203.0.113.7').expect(429);
      // Another client behind the same ingress has its own count.
      await from('198.51.100.2').expect(200);
      // A client cannot pick its address by prepending to the header: only the last hop counts.
      await from('198.51.100.9, 203.0.113.7').expect(429);
    } finally {
      await behind.close();
    }
    // Without TRUST_PROXY (the app above), the header is the client's word and is not used:
    // every request counts against the socket's address.
    const before = await t.redis.keys(`${t.config.redis.keyPrefix}:{rl:login:ip:*`);
    await request(app).post('/v1/test/login').set('X-Forwarded-For', '192.0.2.55');
    const after = await t.redis.keys(`${t.config.redis.keyPrefix}:{rl:login:ip:*`);
    expect(after).toEqual(before);
  });

  it('lets requests through, and logs once, when Redis cannot be asked', async () => {
    const offline = new Redis(inject('redisUrl'), { lazyConnect: true, enableOfflineQueue: false });
    const down = await createHttpTestContext({
      redisUrl: inject('redisUrl'),
      rocketchatUrl: `http://127.0.0.1:${await freePort()}`,
      redis: offline,
      env: { RATE_LIMIT_PER_MINUTE: '1' },
    });
    try {
      const downApp = createApp(down.ctx, [{ path: '/v1/test', router: protectedRouter(down.ctx) }]);
      await request(downApp).post('/v1/test/login').expect(200);
      await request(downApp).post('/v1/test/login').expect(200);
      const warnings = down.logLines.filter((line) => line.includes('rate limit unavailable'));
      expect(warnings).toHaveLength(1);
    } finally {
      offline.disconnect();
      await down.close();
    }
  });
});
