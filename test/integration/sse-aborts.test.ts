/**
 * Clients that give up on `GET /v1/events` at any moment (before authentication answers, while the
 * topics are being subscribed upstream, right after the headers) take nothing with them: the
 * `gateway_sse_connections` gauge and the user's SSE consumer registrations in Redis go back to
 * zero, and the next stream of the same user works as before. Flaky mobile clients do this all
 * the time; a leaked registration keeps the user's upstream session alive for good.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/index.js';
import { createKeys } from '../../src/redis/keys.js';
import { useGatewayFixture } from '../helpers/gateway-fixture.js';
import { loginThroughGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';

const fx = useGatewayFixture({ metrics: createMetrics({ collectDefaultMetrics: false }) });

async function openConnectionsGauge(): Promise<number> {
  const text = await (await fetch(`${fx.gw.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('gateway_sse_connections'));
  if (!line) throw new Error('gateway_sse_connections is not exported');
  return Number(line.split(' ').at(-1));
}

async function sseRegistrations(userId: string): Promise<number> {
  const keys = createKeys(fx.gw.env.REDIS_KEY_PREFIX!).user(userId);
  const redis = fx.gw.gateway.core.redis;
  const [members, topics] = await Promise.all([
    redis.zrange(keys.consumers, '0', '-1'),
    redis.hkeys(keys.consumerTopics),
  ]);
  // A registration is a member of the zset and a field of the hash; either alone is a leak too.
  return new Set([...members, ...topics].filter((id) => id.startsWith('sse:'))).size;
}

/** Sends the request on a raw socket and destroys the socket `afterMs` later, whatever came back. */
function requestThenDrop(token: string, path: string, afterMs: number): Promise<void> {
  const url = new URL(fx.gw.url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(url.port), url.hostname, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\n\r\n`);
      setTimeout(() => socket.destroy(), afterMs);
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve());
  });
}

describe('aborted SSE requests', () => {
  it('release the connection and the consumer registration, whenever the client drops', async () => {
    const { token, userId } = await loginThroughGateway(fx.gw.url, 'alice');
    // One stream first, so that the upstream session exists and later requests get far enough
    // (subscribed, headers sent) for some drops to land after the headers.
    const warm = new AbortController();
    const first = await fetch(`${fx.gw.url}/v1/events?topics=room:GENERAL`, {
      headers: { authorization: `Bearer ${token}` },
      signal: warm.signal,
    });
    expect(first.status).toBe(200);
    warm.abort();

    // Spread over every phase: 0 ms (before authentication), a few ms (credential check,
    // reservation, the forwarded subscribe call), tens of ms (after the headers).
    const delays = Array.from({ length: 200 }, (_, i) => (i * 7) % 60);
    for (let i = 0; i < delays.length; i += 20) {
      await Promise.all(
        delays
          .slice(i, i + 20)
          .map((ms, j) =>
            requestThenDrop(token, `/v1/events?topics=${j % 2 ? 'room:GENERAL' : 'user,room:GENERAL'}`, ms),
          ),
      );
    }

    await waitFor(async () => (await openConnectionsGauge()) === 0, 10_000, 'the gauge back to 0');
    await waitFor(async () => (await sseRegistrations(userId)) === 0, 10_000, 'registrations back to 0');

    // Nothing was left half-open: a stream opened now counts as one, and its end as none.
    const controller = new AbortController();
    const again = await fetch(`${fx.gw.url}/v1/events?topics=user`, {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    expect(again.status).toBe(200);
    await waitFor(async () => (await openConnectionsGauge()) === 1, 10_000, 'one open stream');
    expect(await sseRegistrations(userId)).toBe(1);
    controller.abort();
    await waitFor(async () => (await openConnectionsGauge()) === 0, 10_000, 'the gauge back to 0');
    await waitFor(async () => (await sseRegistrations(userId)) === 0, 10_000, 'registrations back to 0');
  });
});
