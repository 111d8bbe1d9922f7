/**
 * A WebSocket server that only broadcasts: each text a client sends on `/control` is taken as a
 * count, and that many frames of a realistic `stream-room-messages` event (a new message id
 * each, EJSON dates) go to every other connection, one text serialized once per broadcast, as
 * Rocket.Chat's streamer does for a room's subscribers. The upstream side of the bare fan-in
 * baseline (bare-fan-in.ts); its own process, like the simulator in the gateway's runs.
 */
import { type WebSocket, WebSocketServer } from 'ws';

let sequence = 0;

function frame(): string {
  sequence++;
  const now = Date.now();
  const message = {
    _id: `bare${String(sequence).padStart(13, '0')}`,
    rid: 'GENERAL',
    msg: `load ${sequence}`,
    ts: { $date: now },
    u: { _id: 'uidAaaaaaaaaaaaaa', username: 'bench0', name: 'bench0' },
    _updatedAt: { $date: now },
    urls: [],
    mentions: [],
    channels: [],
    md: [{ type: 'PARAGRAPH', value: [{ type: 'PLAIN_TEXT', value: `load ${sequence}` }] }],
  };
  return JSON.stringify({
    msg: 'changed',
    collection: 'stream-room-messages',
    id: 'id',
    fields: { eventName: 'GENERAL', args: [message] },
  });
}

const listeners = new Set<WebSocket>();
const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
server.on('listening', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
server.on('connection', (socket, request) => {
  if (request.url !== '/control') {
    listeners.add(socket);
    socket.on('close', () => listeners.delete(socket));
    return;
  }
  socket.on('message', (data) => {
    const count = Number(data.toString());
    for (let i = 0; i < count; i++) {
      const bytes = Buffer.from(frame(), 'utf8');
      for (const listener of listeners) listener.send(bytes);
    }
  });
});
