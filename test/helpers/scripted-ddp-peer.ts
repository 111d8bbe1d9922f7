/**
 * A bare DDP peer on a real socket whose every answer the test scripts. The simulator is the
 * faithful Rocket.Chat; this is for client state-machine tests that need exact control over
 * when a frame does or does not arrive.
 */
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { waitFor } from './wait-for.js';

export interface PeerConnection {
  readonly socket: WebSocket;
  readonly received: Record<string, unknown>[];
  send(frame: object): void;
  /** Resolves with the first received frame (already received or future) matching `predicate`. */
  next(
    predicate: (frame: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
}

export interface ScriptedPeer {
  readonly url: string;
  readonly connections: PeerConnection[];
  /** Answers `connect` with `connected` automatically unless turned off. */
  autoConnect: boolean;
  /** Answers `ping` with `pong` automatically unless turned off. */
  autoPong: boolean;
  nextConnection(timeoutMs?: number): Promise<PeerConnection>;
  close(): Promise<void>;
}

export async function startScriptedPeer(): Promise<ScriptedPeer> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const connections: PeerConnection[] = [];
  const connectionWaiters: ((c: PeerConnection) => void)[] = [];
  let sessionSeq = 0;

  const peer: ScriptedPeer = {
    url: `ws://127.0.0.1:${port}/websocket`,
    connections,
    autoConnect: true,
    autoPong: true,
    nextConnection: (timeoutMs = 10_000) => {
      const index = connections.length;
      return waitFor(() => connections[index], timeoutMs, 'a new connection');
    },
    close: async () => {
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  server.on('connection', (socket) => {
    const received: Record<string, unknown>[] = [];
    const connection: PeerConnection = {
      socket,
      received,
      send: (frame) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
      },
      next: (predicate, timeoutMs = 10_000) => waitFor(() => received.find(predicate), timeoutMs, 'a frame'),
    };
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      received.push(frame);
      if (frame.msg === 'connect' && peer.autoConnect)
        connection.send({ msg: 'connected', session: `s${++sessionSeq}` });
      if (frame.msg === 'ping' && peer.autoPong)
        connection.send(frame.id ? { msg: 'pong', id: frame.id } : { msg: 'pong' });
    });
    connection.send({ server_id: '0' });
    connections.push(connection);
    for (const waiter of connectionWaiters.splice(0)) waiter(connection);
  });
  return peer;
}
