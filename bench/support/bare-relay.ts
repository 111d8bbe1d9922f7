/**
 * The floor under any HTTP front for sending, for bench/outbound.bench.ts: a bare `node:http`
 * server that answers each `POST` with 202 at once and sends the message with `sendMessage` on
 * one DDP connection, keeping `window` calls in flight. No durability, no authentication, no
 * validation, no Redis: what is left is the HTTP request and the DDP call, the two costs every
 * design of the gateway must pay per message. Run in its own process, as the gateway is.
 *
 * Prints `<port>` when ready.
 *
 * Usage: tsx bench/support/bare-relay.ts <wsUrl> <resumeToken> <window>
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newMessageId } from '../../src/outbound/message-id.js';
import { ddpLogin } from './room-observer.js';

const [wsUrl, token, windowArg] = process.argv.slice(2);
if (!wsUrl || !token) throw new Error('usage: bare-relay.ts <wsUrl> <resumeToken> <window>');
const window = Number(windowArg ?? 16);

const ddp = await ddpLogin(wsUrl, token);
const waiting: { rid: string; msg: string }[] = [];
let inFlight = 0;

function pump(): void {
  while (inFlight < window && waiting.length > 0) {
    const { rid, msg } = waiting.shift()!;
    inFlight++;
    ddp.call('sendMessage', [{ _id: newMessageId(), rid, msg }]).then(
      () => {
        inFlight--;
        pump();
      },
      (err: unknown) => {
        console.error('bare relay: send failed', err);
        process.exit(1);
      },
    );
  }
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const { roomId, text } = JSON.parse(Buffer.concat(chunks).toString()) as { roomId: string; text: string };
    res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"queued"}');
    waiting.push({ rid: roomId, msg: text });
    pump();
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
