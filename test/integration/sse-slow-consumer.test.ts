/**
 * A client that stops reading is cut off once its unsent bytes pass SSE_MAX_BUFFER_BYTES, with a
 * final event saying why; another client of the same user keeps receiving meanwhile.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { useGatewayFixture } from '../helpers/gateway-fixture.js';
import { loginThroughGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';

const fx = useGatewayFixture({ env: { SSE_MAX_BUFFER_BYTES: '65536' } });

/**
 * An SSE request on a raw socket that reads nothing until told to. The connection is keep-alive,
 * so the end of the stream is the last (zero-length) chunk, not the end of the socket.
 */
function openRaw(token: string): { socket: net.Socket; read(): Promise<string> } {
  const url = new URL(fx.gw.url);
  const socket = net.connect(Number(url.port), url.hostname);
  socket.setNoDelay(true);
  socket.write(
    `GET /v1/events?topics=user HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\nAccept: text/event-stream\r\n\r\n`,
  );
  socket.pause();
  return {
    socket,
    read: () =>
      new Promise((resolve) => {
        let text = '';
        socket.on('data', (chunk) => {
          text += chunk.toString();
          if (text.endsWith('\r\n0\r\n\r\n')) resolve(text);
        });
        socket.on('end', () => resolve(text));
        socket.resume();
      }),
  };
}

describe('slow SSE consumers', () => {
  it('are disconnected with a final event saying why, without slowing a fast client', async () => {
    const { token, userId } = await loginThroughGateway(fx.gw.url, 'alice');
    const slow = openRaw(token);
    const fast: string[] = [];
    const controller = new AbortController();
    const response = await fetch(`${fx.gw.url}/v1/events?topics=user`, {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        fast.push(new TextDecoder().decode(value));
      }
    })();
    // Both streams are open once the hub counts them.
    await waitFor(() => fast.join('').includes('retry:'), 15_000, 'the fast stream open');
    // Enough to overflow the kernel's socket buffers (loopback autotuning grows them to MBs).
    const padding = 'x'.repeat(16_000);
    const log = fx.gw.gateway.core.eventLog;
    for (let i = 0; i < 1500; i++) {
      await log.append({ type: 'notification', userId, ts: new Date().toISOString(), data: { i, padding } });
    }
    await waitFor(() => fast.join('').includes('"i":1499'), 30_000, 'the fast client to get every event');
    const text = await slow.read();
    expect(text).toMatch(/event: error\ndata: \{"reason":"slow-consumer"/);
    expect(text).not.toContain('"i":1499');
    controller.abort();
    slow.socket.destroy();
  });
});
