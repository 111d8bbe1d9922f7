/**
 * The replay/live seam of one SSE connection, against a real Redis and a real HTTP response.
 *
 * The log append and its PUBLISH are one script, but the replay's XRANGE (command connection)
 * and the live message (subscriber connection) travel on different sockets, so nothing orders
 * them: under load the replay can return an event whose live copy is still on its way, and
 * arrives after the live queue was drained. That copy must not be written a second time. This
 * is how a resumed stream showed the first message caught up after a restart twice.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type AppendedEvent, EventLog } from '../../src/events/event-log.js';
import { type LiveEvent, parseLiveMessage } from '../../src/events/live-message.js';
import { createKeys } from '../../src/redis/keys.js';
import { SseConnection } from '../../src/sse/sse-connection.js';
import { openSse } from '../helpers/sse-reader.js';
import { waitFor } from '../helpers/wait-for.js';

let redis: Redis;
const keys = createKeys(`seam-${Date.now()}`);
let eventLog: EventLog;
let server: Server;
let responses: ServerResponse[] = [];

beforeAll(async () => {
  redis = new Redis(inject('redisUrl'));
  eventLog = new EventLog({ redis, keys, maxLength: 1000, maxAgeMs: 3_600_000 });
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    responses.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const res of responses) res.end();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  redis.disconnect();
});

async function appendMessage(userId: string, text: string): Promise<AppendedEvent> {
  const appended = await eventLog.append({
    type: 'message.created',
    userId,
    roomId: 'GENERAL',
    ts: new Date().toISOString(),
    data: { _id: `m-${text}`, msg: text },
  });
  return appended!;
}

describe('SSE replay then live', () => {
  it('writes an event once when its live copy arrives after the replay already sent it', async () => {
    const userId = `u${Date.now()}`;
    // The live copies, exactly as the append script publishes them, held back by the test.
    const live: LiveEvent[] = [];
    const subscriber = redis.duplicate();
    subscriber.on('message', (_channel: string, message: string) => {
      const event = parseLiveMessage(userId, message);
      if (event) live.push(event);
    });
    await subscriber.subscribe(keys.user(userId).liveChannel);
    responses = [];
    const client = await openSse(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {});
    const response = await waitFor(() => responses[0], 5000, 'the response');
    const connection = new SseConnection({
      response,
      userId,
      eventLog,
      matches: () => true,
      maxBufferBytes: 1_000_000,
      now: Date.now,
    });
    const seen = await appendMessage(userId, 'seen-before');
    const caughtUp = await appendMessage(userId, 'caught-up');
    await connection.replayThenGoLive(seen.id);
    // The late live copy of what the replay sent, then a new event.
    await waitFor(() => live.length === 2, 5000, 'the live copies');
    connection.onLive(live[1]!);
    const next = await appendMessage(userId, 'next');
    await waitFor(() => live.length === 3, 5000, 'the next live copy');
    connection.onLive(live[2]!);
    await waitFor(() => client.events.some((e) => e.id === next.id), 5000, 'the next event');
    expect(client.events.map((e) => e.id)).toEqual([caughtUp.id, next.id]);
    client.close();
    subscriber.disconnect();
  });
});
