/**
 * CORS (`CORS_ORIGINS`): allowed origins get their origin echoed and the exposed headers, a
 * preflight is answered with 204 and the allowed methods and headers, other origins get no CORS
 * headers, `*` allows any origin, and an empty list adds nothing. Through the gateway as deployed
 * (`startGateway`, role `api`).
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../helpers/redis-server.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const ALLOWED = 'https://app.example';
const gateways: TestGateway[] = [];
let rocketchatUrl: string;

/** A gateway with `CORS_ORIGINS` set so; its URL, for supertest. */
async function appWith(corsOrigins: string | undefined): Promise<string> {
  const gateway = await startTestGateway({
    redisUrl: inject('redisUrl'),
    rocketchatUrl,
    env: { GATEWAY_ROLE: 'api', ...(corsOrigins === undefined ? {} : { CORS_ORIGINS: corsOrigins }) },
  });
  gateways.push(gateway);
  return gateway.url;
}

beforeAll(async () => {
  rocketchatUrl = `http://127.0.0.1:${await freePort()}`;
});

afterAll(async () => {
  await Promise.all(gateways.map((gateway) => gateway.close()));
});

describe('CORS with CORS_ORIGINS=https://app.example', () => {
  let app: string;
  beforeAll(async () => {
    app = await appWith(ALLOWED);
  });

  it('echoes an allowed origin, varies on Origin and exposes the gateway headers', async () => {
    const res = await request(app).get('/healthz').set('Origin', ALLOWED);
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(res.headers.vary).toMatch(/\bOrigin\b/);
    const exposed = String(res.headers['access-control-expose-headers']);
    for (const header of [
      'Retry-After',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
      'Location',
      'Idempotent-Replayed',
      'X-Request-Id',
    ])
      expect(exposed).toContain(header);
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('adds CORS headers to error answers too (the JSON 404)', async () => {
    const res = await request(app).get('/nowhere').set('Origin', ALLOWED);
    expect(res.status).toBe(404);
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
  });

  it('answers a preflight with 204, the allowed methods and headers, before the routers', async () => {
    const res = await request(app)
      .options('/v1/sessions')
      .set('Origin', ALLOWED)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization, content-type, idempotency-key');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(res.headers['access-control-allow-methods']).toMatch(/\bPOST\b/);
    expect(res.headers['access-control-allow-methods']).toMatch(/\bDELETE\b/);
    const allowedHeaders = String(res.headers['access-control-allow-headers']).toLowerCase();
    for (const header of [
      'authorization',
      'content-type',
      'idempotency-key',
      'last-event-id',
      'x-user-id',
      'x-auth-token',
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
    ])
      expect(allowedHeaders).toContain(header);
    expect(res.text).toBe('');
  });

  it('the actual request after the preflight reaches the router with the CORS headers', async () => {
    // The sessions router parsed the body: it names the field it refused.
    const res = await request(app).post('/v1/sessions').set('Origin', ALLOWED).send({ username: 42 });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'GW_ERR_VALIDATION' });
    expect(JSON.stringify(res.body)).toContain('username');
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
  });

  it('gives a disallowed origin no CORS headers, and its preflight is not answered with 204', async () => {
    const res = await request(app).get('/healthz').set('Origin', 'https://evil.example');
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['access-control-expose-headers']).toBeUndefined();
    const preflight = await request(app)
      .options('/v1/sessions')
      .set('Origin', 'https://evil.example')
      .set('Access-Control-Request-Method', 'POST');
    expect(preflight.status).not.toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('adds no CORS headers to a request without Origin (same-origin, curl)', async () => {
    const res = await request(app).get('/healthz');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('CORS with CORS_ORIGINS=*', () => {
  it('allows any origin, preflight included', async () => {
    const app = await appWith('*');
    const res = await request(app).get('/healthz').set('Origin', 'https://anything.example');
    expect(res.headers['access-control-allow-origin']).toBe('https://anything.example');
    expect(res.headers.vary).toMatch(/\bOrigin\b/);
    const preflight = await request(app)
      .options('/v1/sessions')
      .set('Origin', 'http://localhost:5173')
      .set('Access-Control-Request-Method', 'POST');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('http://localhost:5173');
  });
});

describe('CORS with CORS_ORIGINS unset', () => {
  it('adds no CORS headers at all', async () => {
    const app = await appWith(undefined);
    const res = await request(app).get('/healthz').set('Origin', ALLOWED);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers.vary ?? '').not.toMatch(/\bOrigin\b/);
    const preflight = await request(app)
      .options('/v1/sessions')
      .set('Origin', ALLOWED)
      .set('Access-Control-Request-Method', 'POST');
    expect(preflight.status).not.toBe(204);
  });
});
