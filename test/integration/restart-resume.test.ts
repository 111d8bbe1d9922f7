/**
 * Restarts without a blip. The only gateway process (role `all`) is killed with SIGKILL while a
 * client streams, messages are posted, edited and deleted while no gateway runs, and a new
 * process is started. At once, before it has had time to take anything over, a client resumes
 * its stream with Last-Event-ID, creates a webhook, calls a method and queues a send: every one
 * must succeed (a browser's EventSource treats any non-200 as final), and the resumed stream
 * must carry every change made meanwhile exactly once, in order. Twenty times in a row: the
 * duplicate this guards against showed once in about ten runs.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import { type GatewayProcess, sharedGatewayEnv, startGatewayProcess } from '../helpers/gateway-process.js';
import { openSse, type SseReader } from '../helpers/sse-reader.js';
import { loginThroughGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const RESTARTS = 20;

let sim: Simulator;
let receiver: WebhookReceiver;
let env: Record<string, string>;
let gateway: GatewayProcess | undefined;
let token = '';
const readers: SseReader[] = [];

interface Change {
  readonly type: string;
  readonly messageId: string;
}

function changesIn(reader: SseReader): Change[] {
  return reader.events
    .filter((e) => e.event.startsWith('message.'))
    .map((e) => ({ type: e.event, messageId: (JSON.parse(e.data) as { data: { _id: string } }).data._id }));
}

async function request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${gateway!.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function stream(lastEventId?: string): Promise<SseReader> {
  const reader = await openSse(`${gateway!.url}/v1/events?topics=room:GENERAL`, {
    authorization: `Bearer ${token}`,
    ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
  });
  readers.push(reader);
  return reader;
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, rateLimits: false });
  receiver = await startWebhookReceiver();
  env = {
    ...sharedGatewayEnv(inject('redisUrl'), sim.url),
    GATEWAY_ROLE: 'all',
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
  };
  gateway = await startGatewayProcess(env);
  token = (await loginThroughGateway(gateway.url, 'alice')).token;
}, 60_000);

afterAll(async () => {
  for (const reader of readers) reader.close();
  await gateway?.kill('SIGKILL');
  await receiver?.close();
  await sim?.close();
});

describe('kill -9 of the only process, restart, resume', () => {
  it(`answers at once after a restart and resumes every change exactly once, ${RESTARTS} times in a row`, async () => {
    let live = await stream();
    expect(live.status).toBe(200);
    const warmUp = sim.control.postMessage('bob', 'GENERAL', 'warm-up');
    await waitFor(
      () => changesIn(live).some((c) => c.messageId === warmUp._id),
      20_000,
      'the warm-up message',
    );

    for (let round = 0; round < RESTARTS; round++) {
      // Something posted just before the kill, so the kill can land mid-append.
      const before = sim.control.postMessage('bob', 'GENERAL', `round ${round}: before the kill`);
      await gateway!.kill('SIGKILL');
      const lastEventId = live.events.filter((e) => e.id !== '').at(-1)!.id;
      live.close();
      const seen = new Set(changesIn(live).map((c) => `${c.type}:${c.messageId}`));

      // While no gateway runs: ten messages, an edit and a deletion of earlier ones.
      const posted = Array.from({ length: 10 }, (_, i) =>
        sim.control.postMessage('bob', 'GENERAL', `round ${round}: outage ${i}`),
      );
      const edited = sim.control.postMessage('bob', 'GENERAL', `round ${round}: to edit`);
      const deleted = sim.control.postMessage('bob', 'GENERAL', `round ${round}: to delete`);
      sim.control.editMessage(edited._id, `round ${round}: edited`);
      sim.control.deleteMessage(deleted._id);

      gateway = await startGatewayProcess(env);
      // All at once, the moment the new process listens.
      const [resumed, method, send, webhook] = await Promise.all([
        stream(lastEventId),
        request('POST', '/v1/methods/rooms/get', { params: [] }),
        request('POST', '/v1/messages', { roomId: 'GENERAL', text: `round ${round}: sent` }),
        round === 0
          ? request('POST', '/v1/webhooks', { url: `${receiver.url}/hook`, topics: ['room:GENERAL'] })
          : Promise.resolve({ status: 201, body: {} }),
      ]);
      expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
      expect(method.status, JSON.stringify(method.body)).toBe(200);
      expect(send.status, JSON.stringify(send.body)).toBe(202);
      expect(webhook.status, JSON.stringify(webhook.body)).toBe(201);

      const after = sim.control.postMessage('bob', 'GENERAL', `round ${round}: after the restart`);
      await waitFor(
        () => changesIn(resumed).some((c) => c.messageId === after._id),
        30_000,
        `round ${round}: the message posted after the restart`,
      );
      const changes = changesIn(resumed).filter((c) => c.messageId !== after._id);
      const keys = changes.map((c) => `${c.type}:${c.messageId}`);
      const context = `round ${round}: ${keys.join(' ')}`;
      // Exactly once: not twice on this stream, and nothing the stream before the kill had sent.
      expect(new Set(keys).size, context).toBe(keys.length);
      expect(
        keys.filter((key) => seen.has(key)),
        context,
      ).toEqual([]);
      // The messages born while no gateway ran, in the order they were posted (the one posted
      // just before the kill too, unless the old stream had already sent it).
      const wantedCreated = [
        ...(seen.has(`message.created:${before._id}`) ? [] : [before._id]),
        ...posted.map((m) => m._id),
      ];
      const created = changes
        .filter((c) => c.type === 'message.created' && wantedCreated.includes(c.messageId))
        .map((c) => c.messageId);
      expect(created, context).toEqual(wantedCreated);
      // Edited before any gateway saw it: one change, carrying its final text.
      expect(
        changes.filter((c) => c.messageId === edited._id),
        context,
      ).toHaveLength(1);
      const editedFrame = resumed.events.find((e) => e.data.includes(edited._id))!;
      expect(editedFrame.data).toContain(`round ${round}: edited`);
      // Born and deleted while nobody listened: never announced as created.
      expect(keys, context).not.toContain(`message.created:${deleted._id}`);
      live = resumed;
    }
  }, 600_000);
});
