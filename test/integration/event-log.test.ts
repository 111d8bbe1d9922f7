import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EventLog } from '../../src/events/event-log.js';
import { type LiveEvent, LiveHub } from '../../src/events/live-hub.js';
import type { NewGatewayEvent } from '../../src/events/types.js';
import { createKeys } from '../../src/redis/keys.js';
import { waitFor } from '../helpers/wait-for.js';

const keys = createKeys(`t-${randomUUID().slice(0, 8)}`);
let redis: Redis;
let log: EventLog;

function message(
  id: string,
  updatedAtMs: number,
  msg = 'hi',
  type: NewGatewayEvent['type'] = 'message.created',
): NewGatewayEvent {
  return {
    type,
    userId: 'alice',
    roomId: 'GENERAL',
    ts: new Date(updatedAtMs).toISOString(),
    data: { _id: id, rid: 'GENERAL', msg },
    dedupe: { messageId: id, updatedAtMs },
  };
}

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
  log = new EventLog({ redis, keys, maxLength: 100_000, maxAgeMs: 3_600_000 });
});
afterAll(async () => {
  const found = await redis.keys(`${keys.prefix}:*`);
  if (found.length) await redis.del(...found);
  await redis.quit();
});

const T = Date.now();

describe('event log', () => {
  it('appends a batch in order, one message version once even within the batch, and refuses a fenced batch whole', async () => {
    const userId = 'batcher';
    const of = (event: NewGatewayEvent): NewGatewayEvent => ({ ...event, userId });
    const logged = await log.appendBatch(userId, [
      of(message('b1', T + 10)),
      of(message('b2', T + 20)),
      of(message('b1', T + 10)),
      of(message('b1', T + 30, 'edited')),
    ]);
    expect(logged.map((e) => e?.type)).toEqual([
      'message.created',
      'message.created',
      undefined,
      'message.updated',
    ]);
    const ids = logged.filter((e) => e !== undefined).map((e) => e.id);
    expect([...ids].sort()).toEqual(ids);
    const read = await log.readAfter(userId, undefined, 10);
    expect(read.events.map((e) => e.id)).toEqual(ids);

    // A writer whose lease generation is older than the newest one logs nothing of its batch.
    await redis.set(keys.user(userId).leaseGeneration, '5');
    await expect(
      log.appendBatch(userId, [of(message('b3', T + 40)), of(message('b4', T + 50))], { leaseGeneration: 4 }),
    ).rejects.toMatchObject({ code: 'GW_ERR_FENCED' });
    expect((await log.readAfter(userId, undefined, 10)).events).toHaveLength(3);
    const current = await log.appendBatch(userId, [of(message('b3', T + 40))], { leaseGeneration: 5 });
    expect(current[0]?.type).toBe('message.created');
  });

  it('logs each message version once and upgrades a re-sighted "created" to "updated"', async () => {
    const first = await log.append(message('m1', T + 1000));
    expect(first?.type).toBe('message.created');
    expect(await log.append(message('m1', T + 1000))).toBeUndefined();
    expect(await log.append(message('m1', T + 999))).toBeUndefined();
    const edited = await log.append(message('m1', T + 2000, 'edited'));
    expect(edited?.type).toBe('message.updated');
    const deleted = await log.append({
      ...message('m1', 0),
      type: 'message.deleted',
      dedupe: { messageId: 'm1', updatedAtMs: 0, deleted: true },
    });
    expect(deleted?.type).toBe('message.deleted');
    expect(
      await log.append({
        ...message('m1', 0),
        type: 'message.deleted',
        dedupe: { messageId: 'm1', updatedAtMs: 0, deleted: true },
      }),
    ).toBeUndefined();
    // A late copy of an older version after the deletion is not logged either.
    expect(await log.append(message('m1', T + 3000, 'late'))).toBeUndefined();
    expect((await log.roomWatermarks('alice')).get('GENERAL')).toBe(T + 2000);
  });

  it('serializes the envelope once, with the stream id as the event id', async () => {
    const appended = await log.append(message('m2', T + 5000));
    const parsed = JSON.parse(appended!.json);
    expect(parsed).toEqual({
      id: appended!.id,
      type: 'message.created',
      userId: 'alice',
      roomId: 'GENERAL',
      ts: new Date(T + 5000).toISOString(),
      data: { _id: 'm2', rid: 'GENERAL', msg: 'hi' },
    });
    const read = await log.readAfter('alice', undefined, 100);
    expect(read.events.at(-1)).toEqual(appended);
  });

  it('reads after an id, exclusively, and reports a gap when entries after it were trimmed', async () => {
    const small = new EventLog({ redis, keys, maxLength: 1, maxAgeMs: 3_600_000 });
    const userId = `gap-${randomUUID()}`;
    const ids: string[] = [];
    // MAXLEN ~ trims whole stream nodes (100 entries by default): append enough to trim some.
    for (let i = 0; i < 350; i++) {
      ids.push(
        (await small.append({ type: 'typing', userId, ts: new Date().toISOString(), data: { i } }))!.id,
      );
    }
    const fromStart = await small.readAfter(userId, ids[0], 1000);
    expect(fromStart.gap).toBe(true);
    const recent = await small.readAfter(userId, ids[348], 10);
    expect(recent.gap).toBe(false);
    expect(recent.events.map((e) => e.id)).toEqual([ids[349]]);
  });

  it('publishes every appended event to live listeners of that user only', async () => {
    const hub = new LiveHub({ subscriber: new Redis(inject('redisUrl')), keys });
    const seen: LiveEvent[] = [];
    const stop = await hub.listen('alice', (e) => seen.push(e));
    const other: LiveEvent[] = [];
    await hub.listen('bob', (e) => other.push(e));
    const appended = await log.append(message('m3', T + 9000));
    await waitFor(() => seen.length === 1);
    expect(seen[0]).toEqual({
      id: appended!.id,
      type: 'message.created',
      userId: 'alice',
      roomId: 'GENERAL',
      json: appended!.json,
    });
    expect(other).toEqual([]);
    stop();
    await hub.close();
  });
});
