/**
 * One attempt's HTTP exchange (`DeliveryClient.post`) against real receivers: its timeout bounds
 * the whole exchange, whether the receiver never answers, answers and never finishes its body,
 * or drips a body the `rocketchat` format reads; a receiver that answers in time is a response,
 * and a body past the limit is left out with the connection dropped. The exchange is handled at
 * undici's dispatch level (src/webhooks/post-exchange.ts, issue 18), not with `request`: these pin
 * that it still does what `request`, `dump` and an `AbortController` did.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { DeliveryClient } from '../../src/webhooks/delivery-client.js';
import { createGuardedAgent } from '../../src/webhooks/guarded-agent.js';
import { waitFor } from '../helpers/wait-for.js';

const TIMEOUT_MS = 300;

interface Receiver {
  readonly url: string;
  /** Sockets the receiver has seen close. */
  readonly closed: Set<Socket>;
  readonly sockets: Set<Socket>;
  close(): Promise<void>;
}

const open: Receiver[] = [];
const clients: DeliveryClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(open.splice(0).map((receiver) => receiver.close()));
});

async function startReceiver(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<Receiver> {
  const sockets = new Set<Socket>();
  const closed = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handle(req, res));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => closed.add(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const receiver: Receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    sockets,
    closed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  open.push(receiver);
  return receiver;
}

function newClient(maxResponseBytes?: number): DeliveryClient {
  const client = new DeliveryClient({
    agent: createGuardedAgent({ isPrivateTargetAllowed: true, connectTimeoutMs: TIMEOUT_MS }),
    clock: systemClock,
    ...(maxResponseBytes === undefined ? {} : { maxResponseBytes }),
  });
  clients.push(client);
  return client;
}

/** Writes a byte every 50 ms, forever (until the connection goes). */
function drip(res: ServerResponse): void {
  const timer = setInterval(() => res.write('x'), 50);
  res.on('close', () => clearInterval(timer));
}

describe('DeliveryClient.post', () => {
  it('is a response when the receiver answers in time', async () => {
    const receiver = await startReceiver((_req, res) => res.writeHead(204).end());
    const result = await newClient().post(receiver.url, '{}', {}, TIMEOUT_MS);
    expect(result).toMatchObject({ kind: 'response', statusCode: 204 });
  });

  it('times out a receiver that never answers, and lets its connection go', async () => {
    const receiver = await startReceiver(() => undefined);
    const result = await newClient().post(receiver.url, '{}', {}, TIMEOUT_MS);
    expect(result.kind).toBe('timeout');
    expect(result.durationMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(result.durationMs).toBeLessThan(10_000);
    await waitFor(
      () => receiver.sockets.size > 0 && receiver.closed.size === receiver.sockets.size,
      10_000,
      'connection closed',
    );
  });

  it('times out a body that never ends, cutting the drain', async () => {
    const receiver = await startReceiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      drip(res);
    });
    const result = await newClient().post(receiver.url, '{}', {}, TIMEOUT_MS);
    expect(result.kind).toBe('timeout');
    expect(result.durationMs).toBeLessThan(10_000);
    await waitFor(() => receiver.closed.size === receiver.sockets.size, 10_000, 'connection closed');
  });

  it('times out a dripping body it reads (the rocketchat format)', async () => {
    const receiver = await startReceiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      drip(res);
    });
    const result = await newClient().post(receiver.url, '{}', {}, TIMEOUT_MS, { readBody: true });
    expect(result.kind).toBe('timeout');
    expect(result.durationMs).toBeLessThan(10_000);
  });

  it('reads a body that ends in time', async () => {
    const receiver = await startReceiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"text":"hi"}');
    });
    const result = await newClient().post(receiver.url, '{}', {}, TIMEOUT_MS, { readBody: true });
    expect(result).toMatchObject({ kind: 'response', statusCode: 200, body: '{"text":"hi"}' });
  });

  it('keeps the status of a response whose body is over the limit, leaves the body out and drops the connection', async () => {
    const big = 'y'.repeat(4096);
    const sized = await startReceiver((_req, res) => res.writeHead(200, { 'retry-after': '7' }).end(big));
    const client = newClient(1024);
    const thrownAway = await client.post(sized.url, '{}', {}, TIMEOUT_MS);
    expect(thrownAway).toMatchObject({ kind: 'response', statusCode: 200, retryAfterMs: 7000 });
    await waitFor(() => sized.closed.size === sized.sockets.size, 10_000, 'connection dropped');

    // Chunked (no content-length): cut once the bytes read pass the limit.
    const chunked = await startReceiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 8; i++) res.write(big);
      res.end();
    });
    const read = await client.post(chunked.url, '{}', {}, TIMEOUT_MS, { readBody: true });
    expect(read).toMatchObject({ kind: 'response', statusCode: 200 });
    expect(read).not.toHaveProperty('body');
  });

  it('reuses the connection for the next attempt once a body is read to its end', async () => {
    const receiver = await startReceiver((_req, res) => res.writeHead(200).end('ok'));
    const client = newClient();
    for (let i = 0; i < 8; i++)
      expect(await client.post(receiver.url, '{}', {}, TIMEOUT_MS)).toMatchObject({ kind: 'response' });
    // Not a connection per attempt. (undici may open a second one when the next request comes
    // before it has put the first back in its pool, with `request` as well.)
    expect(receiver.sockets.size).toBeLessThanOrEqual(2);
  });

  it('reports a receiver that is not there as a network error', async () => {
    const receiver = await startReceiver(() => undefined);
    const url = receiver.url;
    await receiver.close();
    open.splice(open.indexOf(receiver), 1);
    const result = await newClient().post(url, '{}', {}, TIMEOUT_MS);
    expect(result).toMatchObject({ kind: 'network_error' });
    expect((result as { error: string }).error).toMatch(/ECONNREFUSED/);
  });
});
