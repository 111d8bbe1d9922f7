/**
 * The client against a running gateway (the whole gateway in this process, startGateway through
 * test/helpers/test-gateway.ts) on the Rocket.Chat simulator and a private Redis: idempotent
 * sends, method calls, an event consumer that resumes across a restart of itself (file position
 * store) and of the gateway (reconnect with backoff), gap notices, refusals that end the stream,
 * and webhook deliveries verified with the client's helper.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../../sim/index.js';
import { EventLog } from '../../../src/events/event-log.js';
import { createKeys } from '../../../src/redis/keys.js';
import { sharedEnv } from '../../../test/helpers/test-core.js';
import { startTestGateway, type TestGateway } from '../../../test/helpers/test-gateway.js';
import { waitFor } from '../../../test/helpers/wait-for.js';
import { startWebhookReceiver } from '../../../test/helpers/webhook-receiver.js';
import {
  type Event,
  FilePositionStore,
  GatewayClient,
  GatewayRequestError,
  MemoryPositionStore,
  type StreamItem,
  verifyWebhook,
  WebhookVerificationError,
} from '../src/index.js';

/** Short delays: the test waits for reconnects, not for production's patience. */
const FAST_BACKOFF = { initialDelayMs: 100, maxDelayMs: 1000 };

let sim: Simulator;
let gw: TestGateway;
let shared: Record<string, string>;
let dir: string;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, rateLimits: false });
  shared = sharedEnv();
  gw = await startGateway();
  dir = mkdtempSync(join(tmpdir(), 'gw-client-it-'));
});

afterAll(async () => {
  await gw?.close();
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function startGateway(port = '0'): Promise<TestGateway> {
  return startTestGateway({
    redisUrl: inject('redisUrl'),
    rocketchatUrl: sim.url,
    shared,
    env: { PORT: port, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' },
  });
}

async function login(username: string) {
  return GatewayClient.login({ baseUrl: gw.url }, { username, password: `${username}-pass` });
}

/** Pulls items from a stream in the background; the test reads `items` and stops it with `stop()`. */
function collect(stream: AsyncIterable<StreamItem> & { close(): void }) {
  const items: StreamItem[] = [];
  let failure: unknown;
  const done = (async () => {
    try {
      for await (const item of stream) items.push(item);
    } catch (err) {
      failure = err;
    }
  })();
  return {
    items,
    failure: () => failure,
    done,
    stop: async () => {
      stream.close();
      await done;
    },
  };
}

const messageIdOf = (item: StreamItem): string | undefined =>
  item.type === 'message.created' ? (item.data as { _id: string })._id : undefined;

describe('sends and method calls', () => {
  it('sends once per idempotency key, however often it is sent', async () => {
    const { client } = await login('alice');
    const key = `client-test-${Date.now()}`;
    const first = await client.sendMessage(
      { roomId: 'GENERAL', text: `once ${key}` },
      { idempotencyKey: key },
    );
    const again = await client.sendMessage(
      { roomId: 'GENERAL', text: `once ${key}` },
      { idempotencyKey: key },
    );
    expect(first.replayed).toBe(false);
    expect(again).toMatchObject({ replayed: true, id: first.id, messageId: first.messageId });
    const sent = await waitFor(
      async () => {
        const job = await client.getMessage(first.id);
        return job.status === 'sent' ? job : undefined;
      },
      15_000,
      'the job to be sent',
    );
    expect(sent.messageId).toBe(first.messageId);
    expect(sim.control.roomMessages('GENERAL').filter((m) => m.msg === `once ${key}`)).toHaveLength(1);
    // The same key with another body is a conflict, not a silent second message.
    const conflict = await client
      .sendMessage({ roomId: 'GENERAL', text: 'something else' }, { idempotencyKey: key })
      .catch((err: unknown) => err);
    expect(conflict).toBeInstanceOf(GatewayRequestError);
    expect(conflict).toMatchObject({ status: 409, code: 'GW_ERR_CONFLICT', isRetryable: false });
  });

  it('retries a send whose answer was lost with the same key: the room still gets it once', async () => {
    const { session } = await login('alice');
    const keys: string[] = [];
    let lost = 0;
    // The gateway takes the first request, but its answer never reaches the caller (a dropped
    // connection): exactly the case Idempotency-Key exists for.
    const losingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      keys.push(new Headers(init?.headers).get('idempotency-key') ?? '');
      if (lost++ === 0) throw new TypeError('fetch failed: socket hang up');
      return response;
    };
    const client = new GatewayClient({ baseUrl: gw.url, token: session.token, fetch: losingFetch });
    const text = `lost answer ${Date.now()}`;
    const sent = await client.sendMessage(
      { roomId: 'GENERAL', text },
      { backoff: { initialDelayMs: 10, maxDelayMs: 50 } },
    );
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(sent.replayed).toBe(true);
    await waitFor(async () => (await client.getMessage(sent.id)).status === 'sent', 15_000, 'the send');
    expect(sim.control.roomMessages('GENERAL').filter((m) => m.msg === text)).toHaveLength(1);
  });

  it('calls methods and surfaces the gateway error code', async () => {
    const { client } = await login('alice');
    const rooms = await client.callMethod<{ _id: string }[]>('rooms/get');
    expect(rooms.map((room) => room._id)).toContain('GENERAL');
    const refused = await client.callMethod('login').catch((err: unknown) => err);
    expect(refused).toMatchObject({ status: 404, code: 'GW_ERR_METHOD_NOT_ALLOWED' });
  });
});

describe('the event stream', () => {
  it('resumes across a restart of the consumer from the file position store, without losing what came meanwhile', async () => {
    const positions = join(dir, 'restart.json');
    const { client } = await login('alice');
    const firstStream = client.events({ topics: ['room:GENERAL'], store: new FilePositionStore(positions) });
    const first = collect(firstStream);
    // No position yet: the stream starts live, from the moment it is open.
    await waitFor(() => firstStream.connections === 1, 15_000, 'the first stream to open');
    const a = sim.control.postMessage('bob', 'GENERAL', 'before the restart');
    await waitFor(
      () => first.items.some((item) => messageIdOf(item) === a._id),
      15_000,
      'A on the first stream',
    );
    // The loop asked for the next item: A is handled and its position saved.
    await waitFor(
      async () => (await new FilePositionStore(positions).load('events:room:GENERAL')) !== undefined,
      5000,
    );
    await first.stop();

    // "Restarted": while nothing consumes, two messages arrive.
    const b = sim.control.postMessage('bob', 'GENERAL', 'while stopped 1');
    const c = sim.control.postMessage('bob', 'GENERAL', 'while stopped 2');
    const { client: restartedClient } = await login('alice');
    const second = collect(
      restartedClient.events({ topics: ['room:GENERAL'], store: new FilePositionStore(positions) }),
    );
    try {
      await waitFor(
        () => second.items.some((item) => messageIdOf(item) === c._id),
        15_000,
        'C after the restart',
      );
      expect(second.items.map(messageIdOf).filter(Boolean).slice(0, 2)).toEqual([b._id, c._id]);
    } finally {
      await second.stop();
    }
  });

  it('reconnects with backoff across a gateway restart and resumes without duplicates', async () => {
    const { client } = await login('carol');
    const reconnects: number[] = [];
    const stream = client.events({
      topics: ['room:GENERAL'],
      store: new MemoryPositionStore(),
      backoff: FAST_BACKOFF,
      onReconnect: ({ delayMs }) => reconnects.push(delayMs),
    });
    const run = collect(stream);
    try {
      await waitFor(() => stream.connections === 1, 15_000, 'the stream to open');
      const before = sim.control.postMessage('bob', 'GENERAL', 'before the gateway restart');
      await waitFor(
        () => run.items.some((item) => messageIdOf(item) === before._id),
        15_000,
        'the first message',
      );

      const port = String(gw.gateway.port);
      await gw.close();
      // Down: the client keeps trying, each delay within the backoff's bounds.
      await waitFor(() => reconnects.length >= 3, 15_000, 'reconnect attempts while the gateway is down');
      gw = await startGateway(port);

      const after = sim.control.postMessage('bob', 'GENERAL', 'after the gateway restart');
      await waitFor(
        () => run.items.some((item) => messageIdOf(item) === after._id),
        30_000,
        'the message after',
      );
      expect(stream.connections).toBeGreaterThanOrEqual(2);
      for (const delay of reconnects) expect(delay).toBeLessThanOrEqual(FAST_BACKOFF.maxDelayMs);
      const ids = run.items.filter((item) => item.type !== 'gap').map((item) => (item as Event).id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(run.failure()).toBeUndefined();
    } finally {
      await run.stop();
    }
  });

  it('yields a gap notice when the log no longer holds everything after the saved position', async () => {
    const { client, session } = await login('carol');
    const small = new EventLog({
      redis: gw.gateway.core.redis,
      keys: createKeys(gw.env.REDIS_KEY_PREFIX ?? ''),
      maxLength: 1,
      maxAgeMs: 3_600_000,
    });
    const ids: string[] = [];
    for (let i = 0; i < 250; i++) {
      const appended = await small.append({
        type: 'notification',
        userId: session.userId,
        ts: new Date().toISOString(),
        data: { n: i },
      });
      ids.push(appended!.id);
    }
    const store = new MemoryPositionStore();
    await store.save('carol-user', ids[0]!);
    const run = collect(client.events({ topics: ['user'], store, positionKey: 'carol-user' }));
    try {
      await waitFor(
        () => run.items.some((item) => item.type !== 'gap' && item.id === ids.at(-1)),
        15_000,
        'the kept events',
      );
      expect(run.items[0]).toMatchObject({ type: 'gap', lastEventId: ids[0] });
      expect(run.items[1]).toMatchObject({ type: 'notification' });
      // The gap notice moves no position; the events after it do.
      await waitFor(async () => (await store.load('carol-user')) !== ids[0], 5000, 'the position to move');
    } finally {
      await run.stop();
    }
  });

  it('cuts a connection that stays silent past idleTimeoutMs and resumes on a new one', async () => {
    // Heartbeats far apart: to the client, the stream looks dead between events.
    const quiet = await startTestGateway({
      redisUrl: inject('redisUrl'),
      rocketchatUrl: sim.url,
      env: { SSE_HEARTBEAT_MS: '600000' },
    });
    try {
      const { client } = await GatewayClient.login(
        { baseUrl: quiet.url },
        { username: 'bob', password: 'bob-pass' },
      );
      const errors: string[] = [];
      // A position from the start of the log: a message posted while a connection is being made
      // again is replayed, not missed.
      const store = new MemoryPositionStore();
      await store.save('idle', '0-0');
      const stream = client.events({
        topics: ['room:GENERAL'],
        store,
        positionKey: 'idle',
        idleTimeoutMs: 1000,
        backoff: FAST_BACKOFF,
        onReconnect: ({ error }) => errors.push(String((error as Error).message)),
      });
      const run = collect(stream);
      try {
        await waitFor(() => stream.connections >= 3, 20_000, 'idle connections to be cut and made again');
        expect(errors.length).toBeGreaterThanOrEqual(2);
        expect(errors.every((message) => message === 'no data from the gateway for 1000 ms')).toBe(true);
        // Still a working stream: a message posted now arrives.
        const posted = sim.control.postMessage('alice', 'GENERAL', 'through the idle watchdog');
        await waitFor(
          () => run.items.some((item) => messageIdOf(item) === posted._id),
          15_000,
          'the message on a re-made connection',
        );
        expect(run.failure()).toBeUndefined();
      } finally {
        await run.stop();
      }
    } finally {
      await quiet.close();
    }
  });

  it('ends with the gateway error, without retrying, when the token is refused', async () => {
    const client = new GatewayClient({ baseUrl: gw.url, token: 'not-a-token' });
    const stream = client.events({ topics: ['user'], backoff: FAST_BACKOFF });
    const run = collect(stream);
    await run.done;
    expect(run.failure()).toBeInstanceOf(GatewayRequestError);
    expect(run.failure()).toMatchObject({ status: 401, code: 'GW_ERR_UNAUTHENTICATED' });
    expect(stream.connections).toBe(0);
  });
});

describe('webhook verification', () => {
  it('verifies a real delivery, and refuses a tampered body, a stale timestamp and a wrong secret', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const { session } = await login('alice');
      const auth = { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' };
      const created = await fetch(`${gw.url}/v1/webhooks`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ url: receiver.url, topics: ['user'] }),
      });
      expect(created.status).toBe(201);
      const { id, secret } = (await created.json()) as { id: string; secret: string };
      const test = await fetch(`${gw.url}/v1/webhooks/${id}/test`, { method: 'POST', headers: auth });
      expect(test.status).toBeLessThan(300);
      const hit = await waitFor(() => receiver.hits[0], 15_000, 'the test delivery');

      const verified = verifyWebhook(secret, hit.headers, hit.body);
      expect(verified.event).toMatchObject({ type: 'webhook.test', userId: session.userId });
      expect(verified.webhookId).toBe(hit.webhookId);
      expect(
        verifyWebhook(
          [`whsec_${Buffer.alloc(32, 7).toString('base64')}`, secret],
          hit.headers,
          Buffer.from(hit.body),
        ).event.id,
      ).toBe(verified.event.id);

      const failure = (run: () => unknown): unknown => {
        try {
          run();
        } catch (err) {
          return err;
        }
        return undefined;
      };
      const tampered = failure(() =>
        verifyWebhook(secret, hit.headers, hit.body.replace('webhook.test', 'webhook.tesT')),
      );
      expect(tampered).toBeInstanceOf(WebhookVerificationError);
      expect(tampered).toMatchObject({ reason: 'no-matching-signature' });
      const later = Number(hit.timestamp) * 1000 + 10 * 60_000;
      expect(failure(() => verifyWebhook(secret, hit.headers, hit.body, { now: () => later }))).toMatchObject(
        {
          reason: 'timestamp-out-of-tolerance',
        },
      );
      const otherSecret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
      expect(failure(() => verifyWebhook(otherSecret, hit.headers, hit.body))).toMatchObject({
        reason: 'no-matching-signature',
      });
      expect(failure(() => verifyWebhook(secret, { 'webhook-id': hit.webhookId }, hit.body))).toMatchObject({
        reason: 'missing-headers',
      });
    } finally {
      await receiver.close();
    }
  });
});
