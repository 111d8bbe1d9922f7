/**
 * `format: "rocketchat"` end to end: the whole gateway (role all) against the simulator, and a
 * receiver written the way receivers of Rocket.Chat's outgoing integrations are written, against
 * the payload Rocket.Chat documents and sends (`mapEventArgsToData` in Rocket.Chat's
 * apps/meteor/app/integrations/server/lib/triggerHandler.ts): it checks the `token`, reads
 * the fields by name and type, stays quiet for `bot` messages, and answers `ping` with a JSON
 * `text` that Rocket.Chat would post back into the room. The gateway adds its Standard Webhooks
 * signature and its retries on top.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import { createOpenApiDocument } from '../../src/openapi/index.js';
import { loginThroughGateway, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  type ReceivedHook,
  type Reply,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../helpers/webhook-receiver.js';

/** The body of Rocket.Chat's outgoing integration for `sendMessage`, as its receivers read it. */
interface RocketChatOutgoing {
  token: string;
  bot: boolean;
  channel_id: string;
  channel_name?: string;
  message_id: string;
  timestamp: string;
  user_id: string;
  user_name: string;
  text: string;
  siteUrl: string;
  alias?: string;
  isEdited?: boolean;
  tmid?: string;
}

/** The keys Rocket.Chat sends for a plain channel message, in its order. */
const PLAIN_MESSAGE_KEYS = [
  'token',
  'bot',
  'channel_id',
  'channel_name',
  'message_id',
  'timestamp',
  'user_id',
  'user_name',
  'text',
  'siteUrl',
];

/** Parses and checks a body the way a strict Rocket.Chat receiver would; throws on any mismatch. */
function readOutgoing(raw: string): RocketChatOutgoing {
  const body = JSON.parse(raw) as Record<string, unknown>;
  const strings = [
    'token',
    'channel_id',
    'message_id',
    'timestamp',
    'user_id',
    'user_name',
    'text',
    'siteUrl',
  ];
  for (const key of strings) {
    if (typeof body[key] !== 'string')
      throw new Error(`${key} is not a string: ${JSON.stringify(body[key])}`);
  }
  if (typeof body.bot !== 'boolean') throw new Error('bot is not a boolean');
  if (body.channel_name !== undefined && typeof body.channel_name !== 'string')
    throw new Error('channel_name');
  if (Number.isNaN(Date.parse(body.timestamp as string))) throw new Error('timestamp is not a date');
  return body as unknown as RocketChatOutgoing;
}

/**
 * The bot behind the receiver: checks the token (401 otherwise), ignores bots (itself
 * included), and answers "ping" as Rocket.Chat receivers answer: a JSON body with `text`.
 */
function pingBot(expectedToken: string): (hook: ReceivedHook) => Reply {
  return (hook) => {
    const body = readOutgoing(hook.body);
    if (body.token !== expectedToken) return { status: 401 };
    if (body.bot || !body.text.startsWith('ping')) return { status: 200 };
    return {
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({
        text: `pong to @${body.user_name}: ${body.text}`,
        alias: 'Pinger',
        emoji: ':robot:',
      }),
    };
  };
}

// ajv-formats is CommonJS with `export default`; under NodeNext the callable is `.default`.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const DOC_ID = 'https://gateway.invalid/openapi.json';
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(createOpenApiDocument({ publicUrl: 'http://localhost:3000' }) as object, DOC_ID);

/** The body matches its schema in the OpenAPI document. */
function expectDocumented(schema: string, body: unknown): void {
  const validate = ajv.getSchema(`${DOC_ID}#/components/schemas/${schema}`);
  if (!validate) throw new Error(`no schema ${schema}`);
  expect(validate(body), `${schema}: ${JSON.stringify(validate.errors)}`).toBe(true);
}

let sim: Simulator;
let gw: TestGateway;
let auth: Record<string, string>;
const receivers: WebhookReceiver[] = [];

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${gw.url}${path}`, {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: JSON from the API.
  return { status: response.status, json: (text ? JSON.parse(text) : undefined) as any };
}

async function receiver(respond?: (hook: ReceivedHook, index: number) => Reply): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver(respond);
  receivers.push(started);
  return started;
}

/** Registers a `rocketchat` webhook on GENERAL; returns its id, secret and token. */
async function register(url: string, extra: Record<string, unknown> = {}) {
  const created = await call('POST', '/v1/webhooks', {
    url,
    topics: ['room:GENERAL'],
    format: 'rocketchat',
    ...extra,
  });
  expect(created.status).toBe(201);
  expectDocumented('WebhookCreated', created.json);
  return created.json as { id: string; secret: string; token: string; format: string; events: string[] };
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, rateLimits: false });
  gw = await startTestGateway({
    redisUrl: inject('redisUrl'),
    rocketchatUrl: sim.url,
    env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_SCHEDULE_MS: '100,100' },
  });
  const { token } = await loginThroughGateway(gw.url, 'alice');
  auth = { authorization: `Bearer ${token}` };
});

afterEach(async () => {
  // Webhooks first, so nothing from this test reaches the next one's receiver.
  const list = await call('GET', '/v1/webhooks');
  for (const webhook of list.json.webhooks) await call('DELETE', `/v1/webhooks/${webhook.id}`);
  for (const started of receivers.splice(0)) await started.close();
});

afterAll(async () => {
  await gw?.close();
  await sim?.close();
});

describe('format rocketchat', () => {
  it("posts Rocket.Chat's outgoing-integration body, with the token given, signed by the gateway", async () => {
    const rx = await receiver(() => ({ status: 200 }));
    const webhook = await register(rx.url, { token: 'legacy-outgoing-token-01' });
    expect(webhook.format).toBe('rocketchat');
    expect(webhook.token).toBe('legacy-outgoing-token-01');
    // Rocket.Chat's `sendMessage` event: new messages only, unless edits are asked for.
    expect(webhook.events).toEqual(['message.created']);

    const posted = sim.control.postMessage('bob', 'GENERAL', 'hello from bob');
    const hit = await waitFor(() => rx.hits.find((h) => h.body.includes(posted._id)), 30_000, 'the delivery');

    const body = readOutgoing(hit.body);
    expect(Object.keys(body)).toEqual(PLAIN_MESSAGE_KEYS);
    expect(body).toEqual({
      token: 'legacy-outgoing-token-01',
      bot: false,
      channel_id: 'GENERAL',
      channel_name: 'general',
      message_id: posted._id,
      timestamp: new Date(posted.ts).toISOString(),
      user_id: posted.u._id,
      user_name: 'bob',
      text: 'hello from bob',
      siteUrl: sim.url,
    });
    expect(hit.headers['content-type']).toBe('application/json');
    // The gateway's signature covers the bytes sent, so the receiver may check both.
    expect(
      new Webhook(webhook.secret).verify(hit.body, {
        'webhook-id': hit.webhookId,
        'webhook-timestamp': hit.timestamp,
        'webhook-signature': hit.signature,
      }),
    ).toEqual(body);
  });

  it('posts a JSON reply back into the room as the owner, once, and tells the receiver it is a bot', async () => {
    const rx = await receiver();
    const webhook = await register(rx.url);
    rx.respond = pingBot(webhook.token);
    expect(webhook.token).toMatch(/^[A-Za-z0-9_-]{24}$/);

    const ping = sim.control.postMessage('bob', 'GENERAL', 'ping please');
    const pong = await waitFor(
      () => sim.control.roomMessages('GENERAL').find((m) => m.msg === 'pong to @bob: ping please'),
      30_000,
      'the reply posted in GENERAL',
    );
    // As the webhook's owner, with what the receiver asked for.
    expect(pong.u.username).toBe('alice');
    expect(pong.alias).toBe('Pinger');
    expect(pong.emoji).toBe(':robot:');

    // The reply is a message in GENERAL too: its own delivery says `bot: true`, and the bot
    // (like every Rocket.Chat bot) does not answer it. No loop.
    const echoed = await waitFor(
      () => rx.hits.find((h) => h.body.includes(pong._id)),
      30_000,
      'the reply delivered',
    );
    expect(readOutgoing(echoed.body)).toMatchObject({
      bot: true,
      user_name: 'alice',
      text: 'pong to @bob: ping please',
    });

    const attempts = await waitFor(
      async () => {
        const res = await call('GET', `/v1/webhooks/${webhook.id}/deliveries`);
        return res.json.deliveries.length >= 2 ? res.json.deliveries : undefined;
      },
      30_000,
      'both attempts recorded',
    );
    expectDocumented('DeliveryList', { deliveries: attempts, nextCursor: null });
    const pingAttempt = attempts.find((a: { replyJobId?: string }) => a.replyJobId !== undefined);
    expect(pingAttempt).toMatchObject({ outcome: 'success', statusCode: 200 });
    const job = await call('GET', `/v1/messages/${pingAttempt.replyJobId}`);
    expect(job.json).toMatchObject({ status: 'sent', messageId: pong._id });
    expect(
      sim.control.roomMessages('GENERAL').filter((m) => m.msg === 'pong to @bob: ping please'),
    ).toHaveLength(1);
    expect(rx.hits.filter((h) => h.body.includes(ping._id))).toHaveLength(1);
  });

  it('retries a failing receiver with the same body and posts the reply of the attempt that succeeds', async () => {
    const rx = await receiver();
    const webhook = await register(rx.url);
    const bot = pingBot(webhook.token);
    rx.respond = (hook, index) => (index === 0 ? { status: 503 } : bot(hook));

    const ping = sim.control.postMessage('bob', 'GENERAL', 'ping after a failure');
    await waitFor(
      () => sim.control.roomMessages('GENERAL').some((m) => m.msg === 'pong to @bob: ping after a failure'),
      30_000,
      'the reply after the retry',
    );
    const [first, second] = rx.hits.filter((h) => h.body.includes(ping._id));
    expect(first?.status).toBe(503);
    expect(second?.status).toBe(200);
    expect(second?.body).toBe(first?.body);
    expect(second?.webhookId).toBe(first?.webhookId);
  });

  it('includes isEdited for edits when message.updated is asked for, like runOnEdits', async () => {
    const rx = await receiver(() => ({ status: 200 }));
    await register(rx.url, { events: ['message.created', 'message.updated'] });
    const posted = sim.control.postMessage('bob', 'GENERAL', 'first words');
    await waitFor(() => rx.hits.find((h) => h.body.includes(posted._id)), 30_000, 'the new message');
    sim.control.editMessage(posted._id, 'better words');
    const edited = await waitFor(
      () => rx.hits.find((h) => h.body.includes('better words')),
      30_000,
      'the edit delivered',
    );
    expect(readOutgoing(edited.body)).toMatchObject({
      message_id: posted._id,
      isEdited: true,
      text: 'better words',
    });
  });

  it('refuses what Rocket.Chat outgoing integrations cannot do, and makes a token when switching', async () => {
    const rx = await receiver();
    const bad = [
      { url: rx.url, topics: 'user', format: 'rocketchat', events: ['notification'] },
      { url: rx.url, topics: 'user', token: 'a-token-without-format' },
      { url: rx.url, topics: 'room:GENERAL', format: 'rocketchat', token: 'short' },
      { url: rx.url, topics: 'room:GENERAL', format: 'slack' },
    ];
    for (const body of bad) {
      const res = await call('POST', '/v1/webhooks', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error).toBe('GW_ERR_VALIDATION');
    }

    const plain = await call('POST', '/v1/webhooks', { url: rx.url, topics: 'room:GENERAL' });
    expect(plain.json.format).toBe('gateway');
    expect(plain.json.token).toBeUndefined();
    const switched = await call('PATCH', `/v1/webhooks/${plain.json.id}`, { format: 'rocketchat' });
    expect(switched.status).toBe(200);
    expect(switched.json).toMatchObject({ format: 'rocketchat', events: ['message.created'] });
    expect(switched.json.token).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expectDocumented('WebhookChanged', switched.json);
    // Shown once: a later read does not carry it.
    expect((await call('GET', `/v1/webhooks/${plain.json.id}`)).json.token).toBeUndefined();
  });
});
