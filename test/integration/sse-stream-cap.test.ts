/**
 * `SSE_MAX_STREAMS_PER_USER`: one user cannot hold more streams than that on a replica (each may
 * buffer up to SSE_MAX_BUFFER_BYTES); one more is refused with a JSON 429, other users are not
 * affected, and a closed stream frees its place.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { useGatewayFixture } from '../helpers/gateway-fixture.js';
import { loginThroughGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';

const CAP = 3;

const fx = useGatewayFixture({ env: { SSE_MAX_STREAMS_PER_USER: String(CAP) } });
const controllers: AbortController[] = [];

afterAll(async () => {
  for (const controller of controllers) controller.abort();
});

/** Opens a stream and keeps it open (until its controller aborts); JSON bodies are read. */
async function openStream(
  token: string,
): Promise<{ status: number; body: unknown; controller: AbortController }> {
  const controller = new AbortController();
  controllers.push(controller);
  const response = await fetch(`${fx.gw.url}/v1/events?topics=user`, {
    headers: { authorization: `Bearer ${token}` },
    signal: controller.signal,
  });
  const body = response.headers.get('content-type')?.includes('json') ? await response.json() : undefined;
  return { status: response.status, body, controller };
}

describe('streams per user', () => {
  it('refuses one stream more than the cap with 429, for that user only, until one closes', async () => {
    const alice = await loginThroughGateway(fx.gw.url, 'alice');
    const bob = await loginThroughGateway(fx.gw.url, 'bob');
    // All at once: the cap must hold against requests racing each other, not only in sequence.
    const first = await Promise.all(Array.from({ length: CAP + 3 }, () => openStream(alice.token)));
    const statuses = first.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(CAP).fill(200), ...Array(3).fill(429)]);
    const refused = first.find((r) => r.status === 429)!;
    expect(refused.body).toMatchObject({ error: 'GW_ERR_RATE_LIMITED', details: { maxStreamsPerUser: CAP } });
    expect((refused.body as { message: string }).message).toContain(String(CAP));

    expect((await openStream(bob.token)).status).toBe(200);

    first.find((r) => r.status === 200)!.controller.abort();
    const again = await waitFor(
      async () => {
        const result = await openStream(alice.token);
        return result.status === 200 ? result : undefined;
      },
      15_000,
      'a place freed by the closed stream',
    );
    expect(again.status).toBe(200);
    expect((await openStream(alice.token)).status).toBe(429);
  });
});
