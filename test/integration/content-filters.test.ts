/**
 * Content filters through the public API, against the simulator: `filter.<field>` on
 * `GET /v1/events` and `filter` on webhooks leave out the user's own messages, keep only
 * mentions, one thread, some senders or some message types; a replay with Last-Event-ID is
 * filtered the same way; bad filters are 400 `GW_ERR_VALIDATION` naming the field.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Simulator } from '../../sim/index.js';
import { startTestSimulator } from '../helpers/sim-flavor.js';
import { openSse, type SseReader } from '../helpers/sse-reader.js';
import { loginThroughGateway, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';
import { startWebhookReceiver, verifyHook, type WebhookReceiver } from '../helpers/webhook-receiver.js';

let sim: Simulator;
let gw: TestGateway;
let alice: { token: string; userId: string };
const readers: SseReader[] = [];
const receivers: WebhookReceiver[] = [];

interface Envelope {
  readonly id: string;
  readonly type: string;
  readonly data: { _id: string; msg?: string; t?: string; tmid?: string };
}

beforeAll(async () => {
  sim = await startTestSimulator({ rateLimits: false });
  gw = await startTestGateway({
    redisUrl: inject('redisUrl'),
    rocketchatUrl: sim.url,
    env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' },
  });
  alice = await loginThroughGateway(gw.url, 'alice');
});
afterAll(async () => {
  for (const reader of readers) reader.close();
  for (const receiver of receivers) await receiver.close();
  await gw?.close();
  await sim?.close();
});

async function stream(query: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const reader = await openSse(`${gw.url}/v1/events?${query}`, {
    authorization: `Bearer ${alice.token}`,
    ...headers,
  });
  readers.push(reader);
  return reader;
}

function envelopes(reader: SseReader): Envelope[] {
  return reader.events.filter((e) => e.event.startsWith('message.')).map((e) => JSON.parse(e.data));
}

/** `type:msg` (`type:<t>` for system messages) of every message event, in order. */
function texts(reader: SseReader): string[] {
  return envelopes(reader).map((e) => `${e.type}:${e.data.t ? `<${e.data.t}>` : e.data.msg}`);
}

function has(reader: SseReader, predicate: (e: Envelope) => boolean): boolean {
  return envelopes(reader).some(predicate);
}

function freshChannel(): string {
  return sim.control.createRoom({
    name: `filters-${Date.now()}-${Math.random()}`,
    t: 'c',
    members: ['alice', 'bob', 'carol'],
  })._id;
}

describe('filters on GET /v1/events', () => {
  it('excludeOwn, mentionsMe, threadId, senders and messageTypes each keep only what they say', async () => {
    const rid = freshChannel();
    const bobId = sim.control.userId('bob');
    const topics = `topics=room:${rid}`;
    const own = await stream(`${topics}&filter.excludeOwn=true`);
    const mentions = await stream(`${topics}&filter.mentionsMe=true`);
    const senders = await stream(`${topics}&filter.senders=carol,${bobId}`);
    const joins = await stream(`${topics}&filter.messageTypes=uj`);
    const plainFromOthers = await stream(`${topics}&filter.excludeOwn=true&filter.messageTypes=plain`);
    const all = await stream(topics);
    for (const reader of readers) expect(reader.status).toBe(200);

    const root = sim.control.postMessage('bob', rid, 'root of the thread');
    const thread = await stream(`${topics}&filter.threadId=${root._id}`);
    expect(thread.status).toBe(200);
    sim.control.postMessage('alice', rid, 'alice says hi');
    sim.control.postMessage('bob', rid, 'hey @alice');
    sim.control.postMessage('bob', rid, 'hey @all');
    sim.control.postMessage('carol', rid, 'carol here');
    sim.control.postMessage('bob', rid, 'reply in thread', { tmid: root._id });
    sim.control.postMessage('alice', rid, 'alice in thread @alice', { tmid: root._id });
    // A system message: dave joins the channel over his own session (Rocket.Chat's `uj`).
    sim.control.createUser({ username: 'dave', password: 'dave-pass', name: 'Dave' });
    const dave = await loginThroughGateway(gw.url, 'dave');
    const joined = await fetch(`${gw.url}/v1/methods/joinRoom`, {
      method: 'POST',
      headers: { authorization: `Bearer ${dave.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ params: [rid] }),
    });
    expect(joined.status).toBe(200);
    const last = sim.control.postMessage('carol', rid, 'last one');

    // Every stream is alice's: the live hub hands each event to all of them in the same turn, so
    // once the unfiltered stream has the last message, every filtered one has decided on it.
    await waitFor(() => has(all, (e) => e.data._id === last._id), 20_000, 'the last message, unfiltered');
    await waitFor(() => has(own, (e) => e.data._id === last._id), 20_000, 'the last message, excludeOwn');

    expect(texts(own).some((t) => t.includes('alice says hi') || t.includes('alice in thread'))).toBe(false);
    expect(texts(own)).toEqual(
      expect.arrayContaining(['message.created:hey @alice', 'message.created:carol here']),
    );
    expect(new Set(texts(mentions))).toEqual(
      new Set(['message.created:hey @alice', 'message.created:alice in thread @alice']),
    );
    const threadIds = new Set(envelopes(thread).map((e) => e.data.tmid ?? e.data._id));
    expect(threadIds).toEqual(new Set([root._id]));
    expect(texts(thread)).toEqual(
      expect.arrayContaining(['message.created:reply in thread', 'message.created:alice in thread @alice']),
    );
    // The root's own updates (thread counters) belong to the thread too.
    expect(texts(thread)).toContain('message.updated:root of the thread');
    expect(texts(senders)).toEqual(
      expect.arrayContaining([
        'message.created:carol here',
        'message.created:hey @all',
        'message.created:last one',
      ]),
    );
    expect(texts(senders).some((t) => t.includes('alice says hi') || t.includes('<uj>'))).toBe(false);
    expect(texts(joins)).toEqual(['message.created:<uj>']);
    expect(texts(all)).toContain('message.created:<uj>');
    expect(texts(plainFromOthers)).not.toContain('message.created:<uj>');
    expect(texts(plainFromOthers)).not.toContain('message.created:alice says hi');
    expect(texts(plainFromOthers)).toContain('message.created:last one');
  });

  it('filters the replay after Last-Event-ID and the history since a time the same way', async () => {
    const rid = freshChannel();
    const all = await stream(`topics=room:${rid}`);
    const before = new Date().toISOString();
    const first = sim.control.postMessage('bob', rid, 'first from bob');
    sim.control.postMessage('alice', rid, 'alice, while away');
    sim.control.postMessage('carol', rid, 'carol, while away');
    const last = sim.control.postMessage('bob', rid, 'bob, while away');
    await waitFor(() => has(all, (e) => e.data._id === last._id), 20_000, 'the messages logged');
    const firstEventId = envelopes(all).find((e) => e.data._id === first._id)!.id;

    const resumed = await stream(`topics=room:${rid}&filter.excludeOwn=true`, {
      'last-event-id': firstEventId,
    });
    await waitFor(() => has(resumed, (e) => e.data._id === last._id), 20_000, 'the filtered replay');
    expect(texts(resumed)).toEqual(['message.created:carol, while away', 'message.created:bob, while away']);

    const history = await stream(`topics=room:${rid}&filter.senders=bob&since=${encodeURIComponent(before)}`);
    await waitFor(() => has(history, (e) => e.data._id === last._id), 20_000, 'the filtered history');
    expect(texts(history)).toEqual(['message.created:first from bob', 'message.created:bob, while away']);
    expect(history.events[0]!.event).toBe('history');
  });

  it('refuses unknown fields, bad values and oversized lists with 400 GW_ERR_VALIDATION', async () => {
    const bad = async (query: string): Promise<Record<string, unknown>> => {
      const reader = await stream(`topics=user&${query}`);
      expect(reader.status, query).toBe(400);
      expect(reader.body, query).toMatchObject({ error: 'GW_ERR_VALIDATION' });
      return reader.body as Record<string, unknown>;
    };
    const unknown = await bad('filter.sender=bob');
    expect(String(unknown.message)).toContain('filter');
    expect(JSON.stringify(unknown.details)).toContain('sender');
    await bad('filter.excludeOwn=yes');
    await bad('filter.threadId=a%20b');
    await bad('filter.threadId=one&filter.threadId=two');
    await bad('filter.messageTypes=<script>');
    await bad(`filter.senders=${Array.from({ length: 101 }, (_, i) => `user${i}`).join(',')}`);
    await bad('filter.senders=');
    // A filter that asks for nothing is no filter, not an error.
    const relaxed = await stream('topics=user&filter.excludeOwn=false');
    expect(relaxed.status).toBe(200);
  });
});

describe('filters on webhooks', () => {
  // biome-ignore lint/suspicious/noExplicitAny: JSON from the API.
  async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  it('delivers only what the filter keeps, shows it, changes it and removes it', async () => {
    const rx = await startWebhookReceiver();
    receivers.push(rx);
    const rid = freshChannel();
    const created = await api('POST', '/v1/webhooks', {
      url: rx.url,
      topics: [`room:${rid}`],
      filter: { excludeOwn: true, senders: ['carol', 'carol'], mentionsMe: false },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    // Canonical: duplicates and false flags dropped.
    expect(created.body.filter).toEqual({ excludeOwn: true, senders: ['carol'] });
    expect((await api('GET', `/v1/webhooks/${created.body.id}`)).body.filter).toEqual({
      excludeOwn: true,
      senders: ['carol'],
    });

    sim.control.postMessage('alice', rid, 'own message');
    sim.control.postMessage('bob', rid, 'from bob');
    const kept = sim.control.postMessage('carol', rid, 'from carol');
    const hit = await waitFor(
      () => rx.hits.find((h) => h.body.includes(kept._id)),
      20_000,
      'carol delivered',
    );
    expect((verifyHook(hit, created.body.secret) as Envelope).data.msg).toBe('from carol');

    const changed = await api('PATCH', `/v1/webhooks/${created.body.id}`, { filter: { senders: ['bob'] } });
    expect(changed.status).toBe(200);
    expect(changed.body.filter).toEqual({ senders: ['bob'] });
    sim.control.postMessage('carol', rid, 'carol after the change');
    const bobAfter = sim.control.postMessage('bob', rid, 'bob after the change');
    await waitFor(() => rx.hits.some((h) => h.body.includes(bobAfter._id)), 20_000, 'bob delivered');

    const removed = await api('PATCH', `/v1/webhooks/${created.body.id}`, { filter: null });
    expect(removed.body.filter).toBeNull();
    const anyone = sim.control.postMessage('alice', rid, 'alice after removal');
    await waitFor(() => rx.hits.some((h) => h.body.includes(anyone._id)), 20_000, 'own message delivered');

    const bodies = rx.hits.map((h) => (JSON.parse(h.body) as Envelope).data.msg);
    expect(bodies).not.toContain('own message');
    expect(bodies).not.toContain('from bob');
    expect(bodies).not.toContain('carol after the change');
  });

  it('refuses unknown filter fields and oversized lists with 400 naming the field', async () => {
    const rx = await startWebhookReceiver();
    receivers.push(rx);
    const unknown = await api('POST', '/v1/webhooks', {
      url: rx.url,
      topics: 'user',
      filter: { fromMe: true },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: 'GW_ERR_VALIDATION' });
    expect(unknown.body.message).toMatch(/^filter/);
    const tooMany = await api('POST', '/v1/webhooks', {
      url: rx.url,
      topics: 'user',
      filter: { messageTypes: Array.from({ length: 51 }, (_, i) => `t${i}`) },
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.details.fields[0].field).toBe('filter.messageTypes');
    const code = await api('POST', '/v1/webhooks', {
      url: rx.url,
      topics: 'user',
      filter: { senders: 'bob' },
    });
    expect(code.status).toBe(400);
  });
});
