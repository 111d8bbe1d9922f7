/**
 * History on connect through the public API: `GET /v1/events?since=<ISO time>` replays what the
 * log holds from that time, `lastEventId=earliest` (or `Last-Event-ID: earliest`) all of it; a
 * `history` event first says where the replay starts and whether the log still held all of it;
 * then the stream goes live with no duplicate at the seam. A reconnect's Last-Event-ID wins over
 * `since`; bad input is 400.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Simulator } from '../../sim/index.js';
import { EventLog } from '../../src/events/event-log.js';
import { parseStreamId } from '../../src/events/stream-id.js';
import { createKeys } from '../../src/redis/keys.js';
import { startTestSimulator } from '../helpers/sim-flavor.js';
import { openSse, type SseReader } from '../helpers/sse-reader.js';
import { loginThroughGateway, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';

let sim: Simulator;
let gw: TestGateway;
const readers: SseReader[] = [];

interface Envelope {
  readonly id: string;
  readonly type: string;
  readonly data: { _id?: string; msg?: string; n?: number };
}

interface HistoryEvent {
  readonly since: string | null;
  readonly firstAvailableId: string | null;
  readonly truncated: boolean;
}

beforeAll(async () => {
  sim = await startTestSimulator({ rateLimits: false });
  gw = await startTestGateway({ redisUrl: inject('redisUrl'), rocketchatUrl: sim.url });
});
afterAll(async () => {
  for (const reader of readers) reader.close();
  await gw?.close();
  await sim?.close();
});

async function stream(
  token: string,
  query: string,
  headers: Record<string, string> = {},
): Promise<SseReader> {
  const reader = await openSse(`${gw.url}/v1/events?${query}`, {
    authorization: `Bearer ${token}`,
    ...headers,
  });
  readers.push(reader);
  return reader;
}

function messages(reader: SseReader): Envelope[] {
  return reader.events.filter((e) => e.event.startsWith('message.')).map((e) => JSON.parse(e.data));
}

function historyOf(reader: SseReader): HistoryEvent {
  const first = reader.events[0]!;
  expect(first.event).toBe('history');
  return JSON.parse(first.data) as HistoryEvent;
}

function freshChannel(): string {
  return sim.control.createRoom({
    name: `history-${Date.now()}-${Math.random()}`,
    t: 'c',
    members: ['alice', 'bob'],
  })._id;
}

describe('history on connect', () => {
  it('since=<time> replays from that time, says where it starts, then goes live without duplicates', async () => {
    const { token } = await loginThroughGateway(gw.url, 'alice');
    const rid = freshChannel();
    const watch = await stream(token, `topics=room:${rid}`);
    const early = sim.control.postMessage('bob', rid, 'before since');
    const earlyEvent = await waitFor(() => messages(watch).find((e) => e.data._id === early._id), 20_000);
    const sinceMs = parseStreamId(earlyEvent.id)!.ms + 1;
    // Later messages must be logged in a later millisecond than `since`.
    await waitFor(() => Date.now() > sinceMs + 1, 5_000, 'the clock to pass since');
    const inRange = [1, 2, 3].map((i) => sim.control.postMessage('bob', rid, `after since ${i}`));
    await waitFor(() => messages(watch).some((e) => e.data._id === inRange[2]!._id), 20_000, 'logged');
    const firstInRange = messages(watch).find((e) => e.data._id === inRange[0]!._id)!;

    const since = new Date(sinceMs).toISOString();
    const reader = await stream(token, `topics=room:${rid}&since=${encodeURIComponent(since)}`);
    expect(reader.status).toBe(200);
    await waitFor(() => messages(reader).length >= 3, 20_000, 'the history');
    expect(historyOf(reader)).toEqual({ since, firstAvailableId: firstInRange.id, truncated: false });
    const live = sim.control.postMessage('bob', rid, 'live after history');
    await waitFor(() => messages(reader).some((e) => e.data._id === live._id), 20_000, 'live after history');
    expect(messages(reader).map((e) => e.data.msg)).toEqual([
      'after since 1',
      'after since 2',
      'after since 3',
      'live after history',
    ]);
    expect(reader.events.filter((e) => e.event === 'history')).toHaveLength(1);
  });

  it('lastEventId=earliest and Last-Event-ID: earliest replay everything the log holds', async () => {
    const { token } = await loginThroughGateway(gw.url, 'alice');
    const rid = freshChannel();
    const watch = await stream(token, `topics=room:${rid}`);
    const posted = [1, 2].map((i) => sim.control.postMessage('bob', rid, `kept ${i}`));
    await waitFor(() => messages(watch).some((e) => e.data._id === posted[1]!._id), 20_000, 'logged');

    for (const [query, headers] of [
      [`topics=room:${rid}&lastEventId=earliest`, {}],
      [`topics=room:${rid}`, { 'last-event-id': 'earliest' }],
    ] as const) {
      const reader = await stream(token, query, headers);
      expect(reader.status).toBe(200);
      await waitFor(() => messages(reader).length >= 2, 20_000, 'everything');
      const history = historyOf(reader);
      expect(history.since).toBeNull();
      expect(history.truncated).toBe(false);
      // The log is alice's whole log: its first entry, whatever topic it belongs to.
      expect(history.firstAvailableId).toMatch(/^\d+-\d+$/);
      expect(messages(reader).map((e) => e.data.msg)).toEqual(['kept 1', 'kept 2']);
      reader.close();
    }
  });

  it('says truncated when the log no longer holds everything since that time', async () => {
    const { token, userId } = await loginThroughGateway(gw.url, 'carol');
    const since = new Date(Date.now() - 1000).toISOString();
    const small = new EventLog({
      redis: gw.gateway.core.redis,
      keys: createKeys(gw.env.REDIS_KEY_PREFIX),
      maxLength: 1,
      maxAgeMs: 3_600_000,
    });
    let lastId = '';
    for (let i = 0; i < 250; i++) {
      const appended = await small.append({
        type: 'notification',
        userId,
        ts: new Date().toISOString(),
        data: { n: i },
      });
      lastId = appended!.id;
    }
    const reader = await stream(token, `topics=user&since=${encodeURIComponent(since)}`);
    await waitFor(() => reader.events.some((e) => e.id === lastId), 20_000, 'the kept events');
    const history = historyOf(reader);
    expect(history.truncated).toBe(true);
    expect(history.firstAvailableId).toBe(reader.events[1]!.id);
    expect(Number((JSON.parse(reader.events[1]!.data) as Envelope).data.n)).toBeGreaterThan(0);
  });

  it('since in the future is just live; a reconnect with Last-Event-ID resumes instead of replaying', async () => {
    const { token } = await loginThroughGateway(gw.url, 'alice');
    const rid = freshChannel();
    const old = sim.control.postMessage('bob', rid, 'old');
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const reader = await stream(token, `topics=room:${rid}&since=${encodeURIComponent(future)}`);
    const live = sim.control.postMessage('bob', rid, 'live');
    await waitFor(() => messages(reader).some((e) => e.data._id === live._id), 20_000, 'live');
    expect(historyOf(reader)).toEqual({ since: future, firstAvailableId: null, truncated: false });
    expect(messages(reader).some((e) => e.data._id === old._id)).toBe(false);

    const liveId = messages(reader).find((e) => e.data._id === live._id)!.id;
    const after = sim.control.postMessage('bob', rid, 'after the reconnect point');
    const since = new Date(0).toISOString();
    const resumed = await stream(token, `topics=room:${rid}&since=${encodeURIComponent(since)}`, {
      'last-event-id': liveId,
    });
    await waitFor(() => messages(resumed).some((e) => e.data._id === after._id), 20_000, 'resumed');
    expect(resumed.events.some((e) => e.event === 'history')).toBe(false);
    expect(messages(resumed).map((e) => e.data.msg)).toEqual(['after the reconnect point']);
  });

  it('answers 400 for a bad since, or since with lastEventId', async () => {
    const { token } = await loginThroughGateway(gw.url, 'alice');
    for (const query of [
      'since=yesterday',
      'since=2026-01-15',
      'since=2026-01-15T09:30:00',
      'since=1768469400000',
      'since=a&since=b',
      `since=${encodeURIComponent('2026-01-15T09:30:00Z')}&lastEventId=earliest`,
      'lastEventId=latest',
    ]) {
      const reader = await stream(token, `topics=user&${query}`);
      expect(reader.status, query).toBe(400);
      expect(reader.body, query).toMatchObject({ error: 'GW_ERR_VALIDATION' });
    }
  });
});
