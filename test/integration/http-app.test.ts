/**
 * The Express app itself: probes, draining, request ids, body limits and parse errors, the JSON
 * 404, the one error handler, security headers, and what the request log line holds.
 * Rocket.Chat is not involved here; its URL points at a closed port.
 */
import express, { type Router } from 'express';
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createError } from '../../src/errors.js';
import { createApp } from '../../src/http/app.js';
import { createHttpAuth } from '../../src/http/auth/index.js';
import { createHttpTestContext, type HttpTestContext } from '../helpers/http-context.js';
import { freePort } from '../helpers/redis-server.js';

const BODY_LIMIT = 1024;

/** Routes that exist only to drive the app's error paths. */
function testRouter(): Router {
  const router = express.Router();
  router.post('/echo', (req, res) => {
    res.json({ body: req.body as unknown });
  });
  router.get('/items/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  router.get('/rate-limited', () => {
    throw createError('GW_ERR_RATE_LIMITED', undefined, { retryAfterMs: 2500 });
  });
  router.get('/broken', async () => {
    throw new Error('secret internals: redis said no');
  });
  router.get('/half-sent', (_req, res, next) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial');
    next(new Error('failed mid-stream'));
  });
  return router;
}

let t: HttpTestContext;
let app: express.Express;
let rocketchatUrl: string;

beforeAll(async () => {
  rocketchatUrl = `http://127.0.0.1:${await freePort()}`;
  t = await createHttpTestContext({
    redisUrl: inject('redisUrl'),
    rocketchatUrl,
    env: { REQUEST_BODY_LIMIT_BYTES: String(BODY_LIMIT) },
  });
  app = createApp(t.ctx, [{ path: '/v1/test', router: testRouter() }]);
});

afterAll(async () => {
  await t?.close();
});

function logged(): Record<string, unknown>[] {
  return t.logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('probes', () => {
  it('GET /healthz answers 200 {"status":"ok"}', async () => {
    const res = await request(app).get('/healthz').expect(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 while Redis answers PING', async () => {
    const res = await request(app).get('/readyz').expect(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 503 with a reason when Redis is not connected', async () => {
    const offline = new Redis(inject('redisUrl'), { lazyConnect: true });
    const down = await createHttpTestContext({ redisUrl: inject('redisUrl'), rocketchatUrl, redis: offline });
    try {
      const res = await request(createApp(down.ctx)).get('/readyz').expect(503);
      expect(res.body).toEqual({ status: 'unavailable', reason: expect.stringMatching(/^redis/) });
      // Liveness does not depend on Redis.
      await request(createApp(down.ctx)).get('/healthz').expect(200);
    } finally {
      offline.disconnect();
      await down.close();
    }
  });
});

describe('draining', () => {
  it('refuses new requests with 503 GW_ERR_DRAINING, except the probes', async () => {
    const draining = await createHttpTestContext({ redisUrl: inject('redisUrl'), rocketchatUrl });
    try {
      const drainingApp = createApp(draining.ctx, [{ path: '/v1/test', router: testRouter() }]);
      await request(drainingApp).post('/v1/test/echo').send({ a: 1 }).expect(200);
      draining.lifecycle.startDraining();

      const res = await request(drainingApp).post('/v1/test/echo').send({ a: 1 }).expect(503);
      expect(res.body).toEqual({ error: 'GW_ERR_DRAINING', message: expect.any(String) });
      expect(res.headers['connection']).toBe('close');
      await request(drainingApp).get('/no-such-route').expect(503);

      await request(drainingApp).get('/healthz').expect(200);
      const ready = await request(drainingApp).get('/readyz').expect(503);
      expect(ready.body).toEqual({ status: 'unavailable', reason: expect.stringMatching(/draining/) });
    } finally {
      await draining.close();
    }
  });
});

describe('request ids', () => {
  it('keeps a sane X-Request-Id and echoes it', async () => {
    const res = await request(app).get('/healthz').set('X-Request-Id', 'abc-123.req').expect(200);
    expect(res.headers['x-request-id']).toBe('abc-123.req');
  });

  it('replaces a missing, oversized or unsafe X-Request-Id with a UUID', async () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const given of [undefined, 'x'.repeat(129), 'has space', 'quote"d', '<script>']) {
      const req = request(app).get('/healthz');
      if (given !== undefined) req.set('X-Request-Id', given);
      const res = await req.expect(200);
      expect(res.headers['x-request-id']).toMatch(uuid);
    }
  });

  it('puts the request id on the log line', async () => {
    await request(app).get('/healthz').set('X-Request-Id', 'log-line-id').expect(200);
    expect(logged().some((line) => line['requestId'] === 'log-line-id' && line['msg'] === 'request')).toBe(
      true,
    );
  });
});

describe('request bodies', () => {
  it('accepts JSON up to the limit', async () => {
    const text = 'x'.repeat(BODY_LIMIT - 20);
    const res = await request(app).post('/v1/test/echo').send({ text }).expect(200);
    expect(res.body).toEqual({ body: { text } });
  });

  it('refuses a larger body with 413 GW_ERR_PAYLOAD_TOO_LARGE naming the limit', async () => {
    const res = await request(app)
      .post('/v1/test/echo')
      .send({ text: 'x'.repeat(BODY_LIMIT) })
      .expect(413);
    expect(res.body).toEqual({
      error: 'GW_ERR_PAYLOAD_TOO_LARGE',
      message: expect.stringContaining('1024 bytes'),
    });
  });

  it('refuses malformed JSON with 400, and logs none of the body', async () => {
    const res = await request(app)
      .post('/v1/test/echo')
      .set('Content-Type', 'application/json')
      .send('{"username":"alice","password":"hunter2-in-broken-json"')
      .expect(400);
    expect(res.body).toEqual({ error: 'GW_ERR_VALIDATION', message: 'The request body is not valid JSON' });
    expect(t.logLines.join('\n')).not.toContain('hunter2-in-broken-json');
  });

  it('refuses a JSON body in an unsupported charset with 415', async () => {
    const res = await request(app)
      .post('/v1/test/echo')
      .set('Content-Type', 'application/json; charset=klingon')
      .send('{}')
      .expect(415);
    expect(res.body.error).toBe('GW_ERR_UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers a body cut short by the client with 400, without hanging', async () => {
    // supertest cannot lie about Content-Length; a raw socket can.
    const server = app.listen(0);
    try {
      await new Promise<void>((resolve) => server.once('listening', resolve));
      const { port } = server.address() as { port: number };
      const net = await import('node:net');
      const response = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.end(
            'POST /v1/test/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"a":1}',
          );
        });
        let data = '';
        socket.on('data', (chunk) => {
          data += chunk.toString();
        });
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      // Node's parser answers a body cut short by the end of the connection itself; what matters
      // is an answer rather than a hang, and that the app goes on serving.
      expect(response).toMatch(/^HTTP\/1\.1 400/);
      await request(server).get('/healthz').expect(200);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('errors', () => {
  it('answers unknown routes with a JSON 404', async () => {
    const res = await request(app).get('/v1/nothing-here?x=1').expect(404);
    expect(res.body).toEqual({ error: 'GW_ERR_NOT_FOUND', message: 'No route for GET /v1/nothing-here' });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
  });

  it('renders Retry-After in seconds when the error says when to retry', async () => {
    const res = await request(app).get('/v1/test/rate-limited').expect(429);
    expect(res.headers['retry-after']).toBe('3');
    expect(res.body).toMatchObject({ error: 'GW_ERR_RATE_LIMITED', retryAfterMs: 2500 });
  });

  it('hides the message of an internal error from the caller and logs it', async () => {
    const res = await request(app).get('/v1/test/broken').set('X-Request-Id', 'broken-1').expect(500);
    expect(res.body).toEqual({ error: 'GW_ERR_INTERNAL', message: 'Internal error' });
    const line = logged().find((l) => l['requestId'] === 'broken-1' && l['msg'] === 'request failed');
    expect(JSON.stringify(line)).toContain('secret internals');
  });

  it('cuts the connection when an error follows a partial response, and keeps serving', async () => {
    await expect(request(app).get('/v1/test/half-sent')).rejects.toThrow();
    await request(app).get('/healthz').expect(200);
  });

  it('answers a path parameter that cannot be decoded with 400, not a crash', async () => {
    const res = await request(app).get('/v1/test/items/%E0%A4%A').expect(400);
    expect(res.body.error).toBe('GW_ERR_VALIDATION');
    await request(app).get('/v1/test/items/ok').expect(200);
  });
});

describe('headers and logs', () => {
  it('sets security headers and never compresses', async () => {
    const res = await request(app).get('/healthz').set('Accept-Encoding', 'gzip, br').expect(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['content-encoding']).toBeUndefined();
  });

  it('redacts access_token in logged URLs and never logs the Authorization header', async () => {
    const router = express.Router();
    router.get('/events', createHttpAuth(t.ctx).authenticate({ allowQueryToken: true }), (_req, res) => {
      res.json({});
    });
    const eventsApp = createApp(t.ctx, [{ path: '/v1', router }]);
    await request(eventsApp)
      .get('/v1/events?topics=user&access_token=leaky-query-token-123')
      .set('Authorization', 'Bearer leaky-header-token-456')
      .set('X-Request-Id', 'redaction-1')
      .expect(401);
    const line = logged().find((l) => l['requestId'] === 'redaction-1' && l['msg'] === 'request');
    expect(line?.['url']).toBe('/v1/events?topics=user&access_token=[REDACTED]');
    const all = t.logLines.join('\n');
    expect(all).not.toContain('leaky-query-token-123');
    expect(all).not.toContain('leaky-header-token-456');
  });
});
