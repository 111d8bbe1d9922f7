/**
 * The SSE stream end to end, with the `eventsource` npm package as the client (an independent
 * implementation of the WHATWG EventSource): live delivery, resume by Last-Event-ID, gap,
 * 403/401, isolation between users, heartbeat and headers, token revocation.
 */
import { EventSource } from 'eventsource';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Simulator } from '../../sim/index.js';
import { EventLog } from '../../src/events/event-log.js';
import { createKeys } from '../../src/redis/keys.js';
import { startTestSimulator } from '../helpers/sim-flavor.js';
import { loginThroughGateway, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';

let sim: Simulator;
let gw: TestGateway;
const sources: EventSource[] = [];

interface Received {
  readonly type: string;
  readonly id: string;
  readonly data: { id: string; type: string; userId: string; roomId?: string; data: Record<string, unknown> };
}

function open(path: string, token: string | undefined, headers: Record<string, string> = {}) {
  const received: Received[] = [];
  const errors: unknown[] = [];
  const source = new EventSource(`${gw.url}${path}`, {
    fetch: (input, init) =>
      fetch(input, {
        ...init,
        headers: {
          ...(init?.headers as Record<string, string>),
          ...headers,
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      }),
  });
  sources.push(source);
  for (const type of [
    'message.created',
    'message.updated',
    'message.deleted',
    'session.unauthorized',
    'gap',
    'reconnect',
    'notification',
    'typing',
  ]) {
    source.addEventListener(type, (event) => {
      received.push({ type, id: event.lastEventId, data: JSON.parse(event.data) });
    });
  }
  source.onerror = (event) => errors.push(event);
  const opened = new Promise<void>((resolve) => {
    source.onopen = () => resolve();
  });
  return { source, received, errors, opened };
}

async function status(
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: unknown }> {
  const controller = new AbortController();
  const response = await fetch(`${gw.url}${path}`, { headers, signal: controller.signal });
  const body = response.headers.get('content-type')?.includes('json') ? await response.json() : undefined;
  controller.abort();
  return { status: response.status, body };
}

beforeAll(async () => {
  sim = await startTestSimulator({ rateLimits: false });
  gw = await startTestGateway({
    redisUrl: inject('redisUrl'),
    rocketchatUrl: sim.url,
    env: { SSE_HEARTBEAT_MS: '300' },
  });
});
afterAll(async () => {
  for (const source of sources) source.close();
  await gw?.close();
  await sim?.close();
});

describe('GET /v1/events', () => {
  it('delivers new messages live, with id, event type and the envelope as data', async () => {
    const { token, userId } = await loginThroughGateway(gw.url, 'alice');
    const stream = open('/v1/events?topics=room:GENERAL', token);
    await stream.opened;
    const posted = sim.control.postMessage('bob', 'GENERAL', 'hello over SSE');
    const event = await waitFor(
      () => stream.received.find((e) => e.data.data._id === posted._id),
      15_000,
      'the message',
    );
    expect(event.type).toBe('message.created');
    expect(event.id).toBe(event.data.id);
    expect(event.data).toMatchObject({
      type: 'message.created',
      userId,
      roomId: 'GENERAL',
      data: { msg: 'hello over SSE' },
    });
    expect(typeof (event.data.data as { ts: unknown }).ts).toBe('string');
    stream.source.close();
  });

  it('resumes with Last-Event-ID: every missed event exactly once, then live with no duplicate', async () => {
    const { token } = await loginThroughGateway(gw.url, 'alice');
    const first = open('/v1/events?topics=room:GENERAL', token);
    await first.opened;
    const seen = sim.control.postMessage('bob', 'GENERAL', 'seen before the disconnect');
    const last = await waitFor(() => first.received.find((e) => e.data.data._id === seen._id), 15_000);
    first.source.close();

    const missed = [1, 2, 3].map((i) => sim.control.postMessage('bob', 'GENERAL', `missed ${i}`));
    sim.control.editMessage(missed[0]!._id, 'missed 1, edited');
    // The session stays up (its consumer lingers), so these are logged while no client listens.
    const log = gw.gateway.core.eventLog;
    await waitFor(
      async () => {
        const page = await log.readAfter((await loginThroughGateway(gw.url, 'alice')).userId, last.id, 100);
        return page.events.length >= 4;
      },
      15_000,
      'the missed events in the log',
    );

    const resumed = open('/v1/events?topics=room:GENERAL', token, { 'last-event-id': last.id });
    await resumed.opened;
    await waitFor(() => resumed.received.length >= 4, 15_000, 'the replay');
    const live = sim.control.postMessage('bob', 'GENERAL', 'live after resume');
    await waitFor(
      () => resumed.received.some((e) => e.data.data._id === live._id),
      15_000,
      'live after the replay',
    );
    const ids = resumed.received.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(resumed.received.map((e) => `${e.type}:${e.data.data.msg}`)).toEqual([
      'message.created:missed 1',
      'message.created:missed 2',
      'message.created:missed 3',
      'message.updated:missed 1, edited',
      'message.created:live after resume',
    ]);
    resumed.source.close();
  });

  it('sends a gap event first when the requested id is older than the log keeps', async () => {
    const { token, userId } = await loginThroughGateway(gw.url, 'carol');
    const small = new EventLog({
      redis: gw.gateway.core.redis,
      keys: createKeys(gw.env.REDIS_KEY_PREFIX),
      maxLength: 1,
      maxAgeMs: 3_600_000,
    });
    const ids: string[] = [];
    for (let i = 0; i < 250; i++) {
      const appended = await small.append({
        type: 'notification',
        userId,
        ts: new Date().toISOString(),
        data: { n: i },
      });
      ids.push(appended!.id);
    }
    const stream = open('/v1/events?topics=user', token, { 'last-event-id': ids[0]! });
    await waitFor(() => stream.received.length >= 2, 15_000, 'gap then kept events');
    expect(stream.received[0]!.type).toBe('gap');
    expect(stream.received[1]!.type).toBe('notification');
    expect(stream.received.at(-1)!.id).toBe(ids.at(-1));
    stream.source.close();
  });

  it("answers 403 for a room the user may not read (Rocket.Chat's own nosub)", async () => {
    const { token } = await loginThroughGateway(gw.url, 'carol');
    const ops = sim.control.createRoom({ name: `ops-${Date.now()}`, t: 'p', members: ['alice', 'bob'] });
    const result = await status(`/v1/events?topics=room:${ops._id}`, { authorization: `Bearer ${token}` });
    expect(result.status).toBe(403);
    expect(result.body).toMatchObject({ error: 'GW_ERR_FORBIDDEN' });
  });

  it('answers 400 for unknown or malformed topics and ids', async () => {
    const { token } = await loginThroughGateway(gw.url, 'alice');
    const auth = { authorization: `Bearer ${token}` };
    expect((await status('/v1/events?topics=nope', auth)).status).toBe(400);
    expect((await status('/v1/events?topics=room:', auth)).status).toBe(400);
    expect((await status('/v1/events', auth)).status).toBe(400);
    expect((await status('/v1/events?topics=user', { ...auth, 'last-event-id': 'not-an-id' })).status).toBe(
      400,
    );
  });

  it('answers 401 for a bad, expired or alg:none token', async () => {
    const secret = gw.env.JWT_SECRET!;
    const claims = { sub: 'someone', typ: 'access', iss: 'rocketchat-gateway', aud: 'rocketchat-gateway' };
    const expired = jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 60 }, secret);
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims, exp: 9_999_999_999 })).toString('base64url')}.`;
    for (const token of [
      'garbage',
      expired,
      none,
      jwt.sign({ ...claims, exp: 9_999_999_999 }, 'another-secret-another-secret-1234'),
    ]) {
      const result = await status('/v1/events?topics=user', { authorization: `Bearer ${token}` });
      expect(result.status).toBe(401);
    }
    expect((await status('/v1/events?topics=user', {})).status).toBe(401);
  });

  it("never shows one user another user's events", async () => {
    const alice = await loginThroughGateway(gw.url, 'alice');
    const bob = await loginThroughGateway(gw.url, 'bob');
    const dm = sim.control.createRoom({ name: 'bob-carol', t: 'd', members: ['bob', 'carol'] });
    const aliceStream = open('/v1/events?topics=rooms,user', alice.token);
    const bobStream = open(`/v1/events?topics=room:${dm._id}`, bob.token);
    await Promise.all([aliceStream.opened, bobStream.opened]);
    const secret = sim.control.postMessage('carol', dm._id, 'for bob only');
    const shared = sim.control.postMessage('carol', 'GENERAL', 'for everyone');
    await waitFor(
      () => bobStream.received.some((e) => e.data.data._id === secret._id),
      15_000,
      'bob gets the DM',
    );
    await waitFor(
      () => aliceStream.received.some((e) => e.data.data._id === shared._id),
      15_000,
      'alice gets GENERAL',
    );
    expect(aliceStream.received.some((e) => e.data.data._id === secret._id)).toBe(false);
    expect(aliceStream.received.every((e) => e.data.userId === alice.userId)).toBe(true);
    expect(bobStream.received.every((e) => e.data.userId === bob.userId)).toBe(true);
    aliceStream.source.close();
    bobStream.source.close();
  });

  it('sets headers that stop proxies buffering, sends retry: and heartbeat comments', async () => {
    const { token } = await loginThroughGateway(gw.url, 'alice');
    const controller = new AbortController();
    const response = await fetch(`${gw.url}/v1/events?topics=user`, {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('cache-control')).toContain('no-cache');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    expect(response.headers.get('content-encoding')).toBeNull();
    const reader = response.body!.getReader();
    let text = '';
    await waitFor(
      async () => {
        const { value } = await reader.read();
        text += new TextDecoder().decode(value);
        return /retry: \d+/.test(text) && text.includes(':\n\n');
      },
      15_000,
      'retry and a heartbeat',
    );
    controller.abort();
  });

  it('ends every stream of the user with session.unauthorized when the token is revoked; then 401', async () => {
    const { token, userId } = await loginThroughGateway(gw.url, 'carol');
    const stream = open('/v1/events?topics=user,room:GENERAL', token);
    await stream.opened;
    await waitFor(() => gw.gateway.core.pool!.session(userId)?.state === 'live', 15_000, 'carol live');
    sim.control.revokeTokens('carol');
    await waitFor(
      () => stream.received.some((e) => e.type === 'session.unauthorized'),
      15_000,
      'unauthorized event',
    );
    const again = await waitFor(
      async () => {
        const result = await status('/v1/events?topics=user', { authorization: `Bearer ${token}` });
        return result.status === 401 ? result : undefined;
      },
      15_000,
      '401 after revocation',
    );
    expect(again.body).toMatchObject({ error: 'GW_ERR_CREDENTIALS_INVALID' });
    stream.source.close();
  });
});
