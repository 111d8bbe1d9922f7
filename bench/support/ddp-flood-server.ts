/**
 * A DDP peer that does nothing but stream: it answers connect, login and sub, and on the
 * `bench:flood` method writes N pre-serialized `stream-room-messages` frames (a realistic
 * Rocket.Chat message with EJSON dates) as fast as the socket takes them. Runs in its own
 * process so the client being measured has a core to itself.
 */
import { WebSocketServer } from 'ws';

const message = {
  _id: 'aBcDeFgHiJkLmNoPq',
  rid: 'GENERAL',
  msg: 'hello @bob, the deploy of build 4711 finished',
  ts: { $date: 1732550000000 },
  u: { _id: 'uidAaaaaaaaaaaaaa', username: 'alice', name: 'Alice' },
  _updatedAt: { $date: 1732550000123 },
  urls: [],
  mentions: [{ _id: 'uidBbbbbbbbbbbbbb', username: 'bob', name: 'Bob', type: 'user' }],
  channels: [],
  md: [
    {
      type: 'PARAGRAPH',
      value: [
        { type: 'PLAIN_TEXT', value: 'hello ' },
        { type: 'MENTION_USER', value: { type: 'PLAIN_TEXT', value: 'bob' } },
      ],
    },
  ],
};
const FRAME = JSON.stringify({
  msg: 'changed',
  collection: 'stream-room-messages',
  id: 'id',
  fields: { eventName: 'GENERAL', args: [message] },
});

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
server.on('listening', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
server.on('connection', (socket) => {
  socket.send('{"server_id":"0"}');
  socket.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as {
      msg: string;
      id?: string;
      method?: string;
      params?: unknown[];
    };
    if (frame.msg === 'connect') socket.send('{"msg":"connected","session":"bench"}');
    else if (frame.msg === 'ping') socket.send('{"msg":"pong"}');
    else if (frame.msg === 'sub') socket.send(JSON.stringify({ msg: 'ready', subs: [frame.id] }));
    else if (frame.msg === 'method' && frame.method === 'login') {
      socket.send(
        JSON.stringify({
          msg: 'result',
          id: frame.id,
          result: { id: 'uidAaaaaaaaaaaaaa', token: 't', tokenExpires: { $date: 1 }, type: 'resume' },
        }),
      );
    } else if (frame.msg === 'method' && frame.method === 'bench:flood') {
      const total = Number(frame.params?.[0] ?? 0);
      let sent = 0;
      const pump = (): void => {
        while (sent < total) {
          socket.send(FRAME);
          sent++;
          if (socket.bufferedAmount > 4 * 1024 * 1024) {
            setImmediate(pump);
            return;
          }
        }
        socket.send(JSON.stringify({ msg: 'result', id: frame.id, result: sent }));
      };
      pump();
    } else if (frame.msg === 'method') {
      socket.send(JSON.stringify({ msg: 'result', id: frame.id }));
    }
  });
});
