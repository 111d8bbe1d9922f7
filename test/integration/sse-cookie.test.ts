/**
 * The SSE cookie over HTTP (item 5 of issue 20): `POST /v1/events/cookie` sets an HttpOnly,
 * SameSite=Strict cookie scoped to `/v1/events` holding a short-lived SSE token; `GET /v1/events`
 * (served by the fast path in front of the app, src/http/fast-path.ts) accepts it; it authorizes
 * nothing else; a foreign Origin is refused; `DELETE /v1/events/cookie` and a logout clear it.
 * A real gateway (startGateway) against the simulator and a private Redis.
 *
 * The browser side (SameSite in Chromium, a cross-site page) is test/integration/sse-cookie-browser.test.ts.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import { openSse } from '../helpers/sse-reader.js';
import { loginThroughGateway, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';

const ALLOWED_ORIGIN = 'https://app.example.test';
const SSE_TTL_SECONDS = 120;

let sim: Simulator;
let gw: TestGateway;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, rateLimits: false });
  gw = await startTestGateway({
    redisUrl: inject('redisUrl'),
    rocketchatUrl: sim.url,
    env: {
      CORS_ORIGINS: ALLOWED_ORIGIN,
      SSE_QUERY_TOKEN_TTL_SECONDS: String(SSE_TTL_SECONDS),
      // The test talks to the gateway from loopback, as a proxy in front of it would.
      TRUST_PROXY: 'loopback',
    },
  });
});

afterAll(async () => {
  await gw?.close();
  await sim?.close();
});

interface CookieAnswer {
  readonly status: number;
  readonly setCookie: string;
  /** `gw_events=<value>`, as a browser would send it back. */
  readonly pair: string;
  readonly body: unknown;
}

async function takeCookie(token: string, headers: Record<string, string> = {}): Promise<CookieAnswer> {
  const response = await fetch(`${gw.url}/v1/events/cookie`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  const setCookie = response.headers.getSetCookie()[0] ?? '';
  return {
    status: response.status,
    setCookie,
    pair: setCookie.split(';')[0] ?? '',
    body: await response.json(),
  };
}

function attributesOf(setCookie: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const part of setCookie.split(';').slice(1)) {
    const [name = '', ...value] = part.trim().split('=');
    attributes.set(name.toLowerCase(), value.join('='));
  }
  return attributes;
}

async function errorOf(response: Response): Promise<{ error: string; message: string }> {
  return (await response.json()) as { error: string; message: string };
}

describe('POST /v1/events/cookie', () => {
  it('sets an HttpOnly, SameSite=Strict cookie scoped to /v1/events, living as long as an SSE token', async () => {
    const { token } = await loginThroughGateway(gw.url, 'alice');
    const before = Date.now();
    const answer = await takeCookie(token);
    expect(answer.status).toBe(201);
    expect(answer.pair).toMatch(/^gw_events=[A-Za-z0-9._-]+$/);
    const attributes = attributesOf(answer.setCookie);
    expect(attributes.get('path')).toBe('/v1/events');
    expect(attributes.has('httponly')).toBe(true);
    expect(attributes.get('samesite')).toBe('Strict');
    // Plain HTTP: a Secure cookie would not even be stored.
    expect(attributes.has('secure')).toBe(false);
    const maxAge = Number(attributes.get('max-age'));
    expect(maxAge).toBeGreaterThan(SSE_TTL_SECONDS - 10);
    expect(maxAge).toBeLessThanOrEqual(SSE_TTL_SECONDS);
    const expiresAt = Date.parse((answer.body as { expiresAt: string }).expiresAt);
    expect(expiresAt - before).toBeLessThanOrEqual((SSE_TTL_SECONDS + 1) * 1000);
    expect(expiresAt).toBeGreaterThan(before);
  });

  it('marks the cookie Secure when the request came over HTTPS (through a trusted proxy)', async () => {
    const { token } = await loginThroughGateway(gw.url, 'alice');
    const answer = await takeCookie(token, { 'x-forwarded-proto': 'https' });
    expect(answer.status).toBe(201);
    expect(attributesOf(answer.setCookie).has('secure')).toBe(true);
  });

  it('marks the cookie Secure when PUBLIC_URL is https, even if the proxy in front is not trusted', async () => {
    const behindTls = await startTestGateway({
      redisUrl: inject('redisUrl'),
      rocketchatUrl: sim.url,
      env: { PUBLIC_URL: 'https://gateway.example.test' },
    });
    try {
      const { token } = await loginThroughGateway(behindTls.url, 'alice');
      const response = await fetch(`${behindTls.url}/v1/events/cookie`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'x-forwarded-proto': 'http' },
      });
      expect(response.status).toBe(201);
      expect(attributesOf(response.headers.getSetCookie()[0] ?? '').has('secure')).toBe(true);
      const cleared = await fetch(`${behindTls.url}/v1/events/cookie`, { method: 'DELETE' });
      expect(attributesOf(cleared.headers.getSetCookie()[0] ?? '').has('secure')).toBe(true);
    } finally {
      await behindTls.close();
    }
  });

  it('needs the normal authentication: neither the cookie itself nor ?access_token= will do', async () => {
    const { token } = await loginThroughGateway(gw.url, 'alice');
    const { pair } = await takeCookie(token);
    const byCookie = await fetch(`${gw.url}/v1/events/cookie`, { method: 'POST', headers: { cookie: pair } });
    expect(byCookie.status).toBe(401);
    expect(byCookie.headers.getSetCookie()).toEqual([]);
    expect((await errorOf(byCookie)).error).toBe('GW_ERR_UNAUTHENTICATED');
    const bare = await fetch(`${gw.url}/v1/events/cookie`, { method: 'POST' });
    expect(bare.status).toBe(401);
  });
});

describe('GET /v1/events with the cookie', () => {
  it('streams the user’s events with the cookie alone, and with the allowed CORS origin', async () => {
    const { token, userId } = await loginThroughGateway(gw.url, 'alice');
    const { pair } = await takeCookie(token);
    const stream = await openSse(`${gw.url}/v1/events?topics=room:GENERAL`, { cookie: pair });
    const fromApp = await openSse(`${gw.url}/v1/events?topics=room:GENERAL`, {
      cookie: pair,
      origin: ALLOWED_ORIGIN,
    });
    try {
      expect(stream.status).toBe(200);
      expect(fromApp.status).toBe(200);
      const posted = sim.control.postMessage('bob', 'GENERAL', 'for the cookie');
      for (const reader of [stream, fromApp]) {
        const event = await waitFor(
          () => reader.events.find((e) => e.data.includes(posted._id)),
          15_000,
          'the message on the cookie stream',
        );
        expect(JSON.parse(event.data)).toMatchObject({ type: 'message.created', userId });
      }
    } finally {
      stream.close();
      fromApp.close();
    }
  });

  it('sends Access-Control-Allow-Credentials to a listed origin on /v1/events only', async () => {
    const preflight = await fetch(`${gw.url}/v1/events/cookie`, {
      method: 'OPTIONS',
      headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
    const elsewhere = await fetch(`${gw.url}/v1/webhooks`, {
      method: 'OPTIONS',
      headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST' },
    });
    expect(elsewhere.status).toBe(204);
    expect(elsewhere.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('refuses the cookie from an origin that is neither the gateway nor listed in CORS_ORIGINS', async () => {
    const { token } = await loginThroughGateway(gw.url, 'alice');
    const { pair } = await takeCookie(token);
    for (const origin of ['https://evil.example.test', 'null', `${gw.url}.evil.test`]) {
      const refused = await fetch(`${gw.url}/v1/events?topics=room:GENERAL`, {
        headers: { cookie: pair, origin },
      });
      expect(refused.status, origin).toBe(403);
      expect((await errorOf(refused)).error).toBe('GW_ERR_FORBIDDEN');
    }
    // The gateway's own origin is fine (a browser may send it on a same-origin request).
    const same = await openSse(`${gw.url}/v1/events?topics=room:GENERAL`, { cookie: pair, origin: gw.url });
    expect(same.status).toBe(200);
    same.close();
  });

  it('is accepted by no state-changing route', async () => {
    const { token } = await loginThroughGateway(gw.url, 'alice');
    const { pair } = await takeCookie(token);
    const headers = { cookie: pair, 'content-type': 'application/json' };
    const attempts: [string, string, unknown][] = [
      ['POST', '/v1/messages', { roomId: 'GENERAL', text: 'forged' }],
      ['POST', '/v1/methods/rooms/get', { params: [] }],
      ['POST', '/v1/webhooks', { url: 'https://example.org/x', events: ['message.created'] }],
      ['DELETE', '/v1/sessions', undefined],
      ['POST', '/v1/sessions/sse-token', undefined],
    ];
    for (const [method, path, body] of attempts) {
      const response = await fetch(`${gw.url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(response.status, `${method} ${path}`).toBe(401);
    }
  });

  it('refuses a cookie holding an access token, a forged value, or nothing usable', async () => {
    const { token } = await loginThroughGateway(gw.url, 'alice');
    for (const value of [token, 'not-a-jwt', `${token.slice(0, -4)}AAAA`]) {
      const refused = await fetch(`${gw.url}/v1/events?topics=room:GENERAL`, {
        headers: { cookie: `gw_events=${value}` },
      });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer');
      expect((await errorOf(refused)).error).toBe('GW_ERR_UNAUTHENTICATED');
    }
    const empty = await fetch(`${gw.url}/v1/events?topics=room:GENERAL`, {
      headers: { cookie: 'gw_events=' },
    });
    expect(empty.status).toBe(401);
  });

  it('stops working after a logout, which also clears it', async () => {
    const { token } = await loginThroughGateway(gw.url, 'carol');
    const { pair } = await takeCookie(token);
    const logout = await fetch(`${gw.url}/v1/sessions`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(logout.status).toBe(204);
    const cleared = logout.headers.getSetCookie()[0] ?? '';
    expect(cleared.split(';')[0]).toBe('gw_events=');
    expect(attributesOf(cleared).get('max-age')).toBe('0');
    expect(attributesOf(cleared).get('path')).toBe('/v1/events');
    const refused = await fetch(`${gw.url}/v1/events?topics=room:GENERAL`, { headers: { cookie: pair } });
    expect(refused.status).toBe(401);
  });
});

describe('DELETE /v1/events/cookie', () => {
  it('clears the cookie, without authentication', async () => {
    const response = await fetch(`${gw.url}/v1/events/cookie`, { method: 'DELETE' });
    expect(response.status).toBe(204);
    const cleared = response.headers.getSetCookie()[0] ?? '';
    expect(cleared.split(';')[0]).toBe('gw_events=');
    const attributes = attributesOf(cleared);
    expect(attributes.get('max-age')).toBe('0');
    expect(attributes.get('path')).toBe('/v1/events');
    expect(attributes.has('httponly')).toBe(true);
    expect(attributes.get('samesite')).toBe('Strict');
  });
});
