/**
 * `GET /v1/events` is served in front of the Express app (src/http/fast-path.ts) and keeps the
 * contract every other route has: request id, CORS, JSON errors with `WWW-Authenticate`, the
 * rate limit's headers, one log line per request; other methods and spellings still reach the app.
 */
import { describe, expect, it } from 'vitest';
import { useGatewayFixture } from '../helpers/gateway-fixture.js';
import { loginThroughGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';

const ORIGIN = 'https://app.example';

const fx = useGatewayFixture({ env: { CORS_ORIGINS: ORIGIN } });

describe('GET /v1/events in front of the app', () => {
  it('answers errors as JSON with the request id, CORS headers and WWW-Authenticate', async () => {
    const response = await fetch(`${fx.gw.url}/v1/events?topics=user`, {
      headers: { origin: ORIGIN, 'x-request-id': 'req-fast-1' },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ error: 'GW_ERR_UNAUTHENTICATED' });
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(response.headers.get('x-request-id')).toBe('req-fast-1');
    expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(response.headers.get('vary')).toContain('Origin');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    // Served without the app's router and its document headers.
    expect(response.headers.get('content-security-policy')).toBeNull();
    await waitFor(
      () => fx.gw.logLines.find((l) => l.includes('req-fast-1') && l.includes('"status":401')),
      10_000,
      'the request log line',
    );
  });

  it('streams with the rate limit headers, validates input, and leaves other spellings to the app', async () => {
    const { token } = await loginThroughGateway(fx.gw.url, 'alice');
    const auth = { authorization: `Bearer ${token}` };
    const controller = new AbortController();
    const stream = await fetch(`${fx.gw.url}/v1/events?topics=user`, {
      headers: { ...auth, origin: ORIGIN },
      signal: controller.signal,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.headers.get('ratelimit-limit')).not.toBeNull();
    expect(stream.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(stream.headers.get('x-request-id')).toMatch(/.+/);
    controller.abort();

    const invalid = await fetch(`${fx.gw.url}/v1/events?topics=nope`, { headers: auth });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: 'GW_ERR_TOPIC_INVALID' });

    // Through the app (helmet's headers show it) and still the same route and answers.
    const slash = await fetch(`${fx.gw.url}/v1/events/?topics=nope`, { headers: auth });
    expect(slash.status).toBe(400);
    expect(slash.headers.get('content-security-policy')).not.toBeNull();
    const post = await fetch(`${fx.gw.url}/v1/events?topics=user`, { method: 'POST', headers: auth });
    expect(post.status).toBe(404);
    expect(await post.json()).toMatchObject({ error: 'GW_ERR_NOT_FOUND' });
    const preflight = await fetch(`${fx.gw.url}/v1/events?topics=user`, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(204);
  });
});
