/**
 * `POST /v1/messages` is served in front of the Express app (src/http/fast-path.ts) and keeps the
 * contract the app's route had: request id, CORS, JSON errors (401, 400 with fields, 413, 415,
 * malformed JSON), `Location` of the job, the rate limit's headers, the route's label in the
 * metrics; other spellings and methods still reach the app.
 */
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/index.js';
import { useGatewayFixture } from '../helpers/gateway-fixture.js';
import { loginThroughGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';

const ORIGIN = 'https://app.example';

const fx = useGatewayFixture({
  env: { CORS_ORIGINS: ORIGIN, REQUEST_BODY_LIMIT_BYTES: '4096' },
  metrics: createMetrics({ defaultLabels: { role: 'all' } }),
});

async function post(body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${fx.gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
}

describe('POST /v1/messages in front of the app', () => {
  it('answers an unauthenticated request as JSON with the request id and CORS headers', async () => {
    const response = await post('{"roomId":"GENERAL","text":"hi"}', {
      origin: ORIGIN,
      'x-request-id': 'req-msg-1',
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'GW_ERR_UNAUTHENTICATED' });
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(response.headers.get('x-request-id')).toBe('req-msg-1');
    expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    // Served without the app's router and its document headers.
    expect(response.headers.get('content-security-policy')).toBeNull();
    await waitFor(
      () => fx.gw.logLines.find((l) => l.includes('req-msg-1') && l.includes('"status":401')),
      10_000,
      'the request log line',
    );
  });

  it('accepts a message with the job Location, and refuses bad bodies as the app did', async () => {
    const { token } = await loginThroughGateway(fx.gw.url, 'alice');
    const auth = { authorization: `Bearer ${token}` };

    const accepted = await post(JSON.stringify({ roomId: 'GENERAL', text: 'through the fast path' }), auth);
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('ratelimit-limit')).not.toBeNull();
    const job = (await accepted.json()) as { id: string; status: string };
    expect(job.status).toBe('queued');
    expect(accepted.headers.get('location')).toBe(`/v1/messages/${job.id}`);
    const status = await fetch(`${fx.gw.url}${accepted.headers.get('location')}`, { headers: auth });
    expect(status.status).toBe(200);
    await waitFor(
      async () => {
        const view = (await (
          await fetch(`${fx.gw.url}/v1/messages/${job.id}`, { headers: auth })
        ).json()) as {
          status: string;
        };
        return view.status === 'sent';
      },
      15_000,
      'the message sent',
    );

    const invalid = await post(JSON.stringify({ roomId: 'GENERAL', text: 'x', extra: true }), auth);
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({
      error: 'GW_ERR_VALIDATION',
      details: { fields: expect.any(Array) },
    });

    const malformed = await post('{"roomId":', auth);
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: expect.any(String), message: expect.any(String) });

    const tooLarge = await post(JSON.stringify({ roomId: 'GENERAL', text: 'y'.repeat(5000) }), auth);
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({ error: expect.any(String) });

    const plain = await fetch(`${fx.gw.url}/v1/messages`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(plain.status).toBe(415);

    // Through the app (helmet's headers show it): the same route and answers.
    const slash = await fetch(`${fx.gw.url}/v1/messages/`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ roomId: 'GENERAL', text: 'through the app' }),
    });
    expect(slash.status).toBe(202);
    expect(slash.headers.get('content-security-policy')).not.toBeNull();
    const preflight = await fetch(`${fx.gw.url}/v1/messages`, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);

    const metrics = await (await fetch(`${fx.gw.url}/metrics`)).text();
    const series = (status: number) =>
      metrics
        .split('\n')
        .find(
          (line) =>
            line.startsWith('gateway_http_requests_total{') &&
            line.includes('method="POST"') &&
            line.includes('route="/v1/messages"') &&
            line.includes(`status="${status}"`),
        );
    expect(Number(series(202)?.split(' ').pop())).toBeGreaterThanOrEqual(2);
    expect(Number(series(400)?.split(' ').pop())).toBe(2);
  });
});
