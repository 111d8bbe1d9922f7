/**
 * `GET /v1/event-types` against the running gateway: it lists every event type the gateway
 * emits, each with a JSON Schema, and real events, made by driving the simulator and the
 * gateway's own API (messages, edits, deletions, typing, presence, rooms, notifications, an
 * ephemeral message, outbound outcomes, webhook test and disable, logout), validate against the
 * schema of their type (ajv, JSON Schema 2020-12, formats checked). Every type is seen.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Simulator } from '../../sim/index.js';
import { EVENT_TYPES } from '../../src/events/types.js';
import { startTestSimulator } from '../helpers/sim-flavor.js';
import { openSse, type SseReader } from '../helpers/sse-reader.js';
import { loginThroughGateway, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

// ajv-formats is CommonJS with `export default`; under NodeNext the callable is `.default`.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

interface CatalogueEntry {
  readonly type: string;
  readonly description: string;
  readonly schema: Record<string, unknown>;
}

let sim: Simulator;
let gw: TestGateway;
const receivers: WebhookReceiver[] = [];
let reader: SseReader | undefined;

beforeAll(async () => {
  sim = await startTestSimulator({ rateLimits: false });
  gw = await startTestGateway({
    redisUrl: inject('redisUrl'),
    rocketchatUrl: sim.url,
    env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_SCHEDULE_MS: '50' },
  });
});
afterAll(async () => {
  reader?.close();
  for (const receiver of receivers) await receiver.close();
  await gw?.close();
  await sim?.close();
});

async function catalogue(): Promise<CatalogueEntry[]> {
  const res = await fetch(`${gw.url}/v1/event-types`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return ((await res.json()) as { eventTypes: CatalogueEntry[] }).eventTypes;
}

describe('GET /v1/event-types', () => {
  it('lists every event type once, each with a described JSON Schema of its envelope', async () => {
    const entries = await catalogue();
    expect(entries.map((e) => e.type)).toEqual([...EVENT_TYPES]);
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    for (const entry of entries) {
      expect(entry.description.length, entry.type).toBeGreaterThan(10);
      expect(entry.schema['type'], entry.type).toBe('object');
      expect((entry.schema['properties'] as Record<string, { const?: string }>)['type']?.const).toBe(
        entry.type,
      );
      expect(() => ajv.compile(entry.schema), entry.type).not.toThrow();
    }
  });

  it('describes the events the gateway really emits: every type, each one valid', async () => {
    const entries = await catalogue();
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    const validators = new Map<string, ValidateFunction>(entries.map((e) => [e.type, ajv.compile(e.schema)]));
    const seen = new Map<string, Record<string, unknown>[]>();
    const record = (json: string): void => {
      const event = JSON.parse(json) as Record<string, unknown>;
      const list = seen.get(String(event['type'])) ?? [];
      list.push(event);
      seen.set(String(event['type']), list);
    };

    sim.control.createUser({ username: 'erin', password: 'erin-pass', name: 'Erin' });
    const erin = await loginThroughGateway(gw.url, 'erin');
    const auth = { authorization: `Bearer ${erin.token}`, 'content-type': 'application/json' };
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${gw.url}${path}`, {
        method,
        headers: auth,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    };
    const rid = sim.control.createRoom({
      name: `catalogue-${Date.now()}`,
      t: 'c',
      members: ['erin', 'bob'],
    })._id;
    const readOnly = sim.control.createRoom({
      name: `announcements-${Date.now()}`,
      t: 'c',
      members: ['bob', 'erin'],
      owner: 'bob',
      readOnly: true,
    })._id;
    reader = await openSse(`${gw.url}/v1/events?topics=room:${rid},rooms,user,presence,typing:${rid}`, auth);
    expect(reader.status).toBe(200);
    const stream = reader;
    const streamed = (type: string) => stream.events.some((e) => e.event === type);

    // Rocket.Chat's side.
    const posted = sim.control.postMessage('bob', rid, 'hello @erin');
    sim.control.editMessage(posted._id, 'hello again @erin');
    sim.control.deleteMessage(posted._id);
    const bulk = [1, 2].map((i) => sim.control.postMessage('bob', rid, `bulk ${i}`)._id);
    sim.control.deleteMessagesBulk(rid, bulk);
    sim.control.setTyping('bob', rid, true);
    sim.control.setPresence('bob', 'away', 'lunch');
    sim.control.createRoom({ name: `later-${Date.now()}`, t: 'c', members: ['erin', 'bob'] });

    // The gateway's side: a send that works, one that Rocket.Chat refuses (it also tells erin
    // why in an ephemeral rocket.cat message).
    expect((await api('POST', '/v1/messages', { roomId: rid, text: 'from erin' })).status).toBe(202);
    expect((await api('POST', '/v1/messages', { roomId: readOnly, text: 'not allowed here' })).status).toBe(
      202,
    );

    // Webhooks: a test event, and an endpoint that answers 410 and gets disabled.
    const ok = await startWebhookReceiver();
    const gone = await startWebhookReceiver(() => ({ status: 410 }));
    receivers.push(ok, gone);
    const okHook = await api('POST', '/v1/webhooks', { url: ok.url, topics: 'user' });
    expect(okHook.status).toBe(201);
    expect((await api('POST', `/v1/webhooks/${okHook.body.id}/test`)).status).toBe(202);
    const testHit = await waitFor(
      () => ok.hits.find((h) => h.body.includes('"webhook.test"')),
      20_000,
      'test',
    );
    record(testHit.body);
    expect((await api('POST', '/v1/webhooks', { url: gone.url, topics: `room:${rid}` })).status).toBe(201);
    sim.control.postMessage('bob', rid, 'to the endpoint that is gone');

    const before = EVENT_TYPES.filter((t) => t !== 'session.unauthorized' && t !== 'webhook.test');
    await waitFor(
      () => before.every(streamed),
      30_000,
      `every type on the stream: ${before.filter((t) => !streamed(t))}`,
    );

    // Last: logging out ends the stream with session.unauthorized.
    expect((await api('DELETE', '/v1/sessions')).status).toBe(204);
    await waitFor(() => streamed('session.unauthorized'), 20_000, 'session.unauthorized');

    for (const frame of stream.events)
      if (frame.event !== 'history' && frame.event !== 'gap') record(frame.data);
    expect([...seen.keys()].sort()).toEqual([...EVENT_TYPES].sort());
    for (const [type, events] of seen) {
      const validate = validators.get(type)!;
      for (const event of events) {
        expect(validate(event), `${type}: ${JSON.stringify(validate.errors)}\n${JSON.stringify(event)}`).toBe(
          true,
        );
      }
    }
    // Both shapes of a deletion were seen and valid.
    const deletions = seen.get('message.deleted')!.map((e) => e['data'] as Record<string, unknown>);
    expect(deletions.some((d) => d['bulk'] === true)).toBe(true);
    expect(deletions.some((d) => d['_id'] === posted._id)).toBe(true);
  });
});
