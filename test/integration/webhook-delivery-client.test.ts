/**
 * One attempt's HTTP exchange (`DeliveryClient.post`) against real receivers: its timeout bounds
 * the whole exchange, whether the receiver never answers, answers and never finishes its body,
 * or drips a body the `rocketchat` format reads; a receiver that answers in time is a response.
 * The timeout is cut by the client's own cancel switch, not an `AbortController` (issue 18): these
 * pin that every phase still ends on time and that the connection is let go.
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

function newClient(): DeliveryClient {
  const client = new DeliveryClient({
    agent: createGuardedAgent({ isPrivateTargetAllowed: true, connectTimeoutMs: TIMEOUT_MS }),
    clock: systemClock,
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
});
