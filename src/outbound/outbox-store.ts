/**
 * The Redis side of a user's outbox: what was accepted, in which order, what may already have
 * reached Rocket.Chat, and how each job ended. Every step is one Lua script on the user's keys
 * (one hash tag, so it is atomic and legal on Redis Cluster).
 *
 * - `accept` gives the job the next sequence number of its user and records it; with an
 *   Idempotency-Key the job id is fixed, and a second accept of it reads the first one back. It
 *   also reads who holds the user's session, so the caller can tell that worker at once.
 * - `mark` is written before a job is sent: a successor finding the mark looks the message up
 *   before sending it again (the `_id` is fixed, but only a lookup tells "sent" from "refused").
 * - `finish` records the outcome once; the job leaves the pending set.
 * - `pending` pages through what is still to do, for a worker that takes a session over.
 */
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import { LuaScript } from '../redis/lua-script.js';
import { outboundNoticeParts } from '../sessions/control-plane.js';
import type { OutboundJobData, OutboundOutcome } from './types.js';

/**
 * KEYS: job hash, pending zset, seq counter, message index, lease, consumers, consumer topics.
 * ARGV: job id, data JSON, message id, request hash, accept id, retention ms, outbox consumer
 * id, outbox consumer expiry ms, '1' to index the message id (a send: its room is found by it),
 * room id, kind, the holder's channel name without the worker id, the notice before its
 * sequence number, the notice between the sequence number and the data.
 * Returns {'exists', request hash, message id, outcome or ''} for a job id already accepted,
 * else {'new', seq, lease value or '', receivers of the notice}. The user stays wanted while it
 * has sends to make (a consumer of the `user` topic, which carries the ephemeral refusals of
 * sends: see job-runner.ts), so a worker holds its session even if nobody listens to its
 * events. The holder of the session, if any, is told at once (see control-plane.ts
 * `outboundNoticeParts`): the notice costs no round trip of its own.
 */
const ACCEPT = new LuaScript(
  `if redis.call('EXISTS', KEYS[1]) == 1 then
  local f = redis.call('HMGET', KEYS[1], 'requestHash', 'messageId', 'outcome')
  return {'exists', f[1] or '', f[2] or '', f[3] or ''}
end
local seq = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'seq', seq, 'messageId', ARGV[3], 'requestHash', ARGV[4], 'acceptId', ARGV[5], 'roomId', ARGV[10], 'kind', ARGV[11])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('ZADD', KEYS[2], seq, ARGV[1])
if ARGV[9] == '1' then
  redis.call('HSET', KEYS[4], ARGV[3], ARGV[1])
  redis.call('PEXPIRE', KEYS[4], ARGV[6])
end
redis.call('ZADD', KEYS[6], 'GT', ARGV[8], ARGV[7])
redis.call('HSET', KEYS[7], ARGV[7], '["user"]')
local lease = redis.call('GET', KEYS[5])
local receivers = 0
if lease then
  local worker = string.match(lease, '^%d+:(.+)$')
  if worker then
    receivers = redis.call('PUBLISH', ARGV[12] .. worker, ARGV[13] .. seq .. ARGV[14] .. ARGV[2] .. '}}')
  end
end
return {'new', tostring(seq), lease or '', receivers}`,
  7,
);

/**
 * KEYS: user key prefix (`<base>:out:job:`), rate-limit hold. ARGV: now ms, job ids...
 * For each job still pending: records the attempt and counts it. Returns {log mark ms, hold ms,
 * then per job: attempts so far (0 when the job is already final)}.
 */
const MARK = new LuaScript(
  `local time = redis.call('TIME')
local out = {tostring(math.floor(tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000)), tostring(redis.call('PTTL', KEYS[2]))}
for i = 2, #ARGV do
  local key = KEYS[1] .. ARGV[i]
  if redis.call('HEXISTS', key, 'data') == 1 then
    redis.call('HSET', key, 'attempt', ARGV[1])
    out[#out + 1] = redis.call('HINCRBY', key, 'attempts', 1)
  else
    out[#out + 1] = 0
  end
end
return out`,
  2,
);

/**
 * KEYS: user key prefix (`<base>:out:job:`), pending zset. ARGV: retention ms, then pairs of job
 * id and outcome JSON. Records each outcome once (a second finish of a job, by an owner that
 * was fenced, changes nothing). Returns, per job, 1 when this call recorded it.
 */
const FINISH = new LuaScript(
  `local out = {}
for i = 2, #ARGV, 2 do
  local key = KEYS[1] .. ARGV[i]
  if redis.call('HSETNX', key, 'outcome', ARGV[i + 1]) == 1 then
    redis.call('HDEL', key, 'data')
    redis.call('PEXPIRE', key, ARGV[1])
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
  redis.call('ZREM', KEYS[2], ARGV[i])
end
return out`,
  2,
);

/**
 * KEYS: user key prefix, pending zset, seq counter. ARGV: after seq, limit.
 * Returns {newest seq given out, then per job: id, seq, data, attempt or ''}. A pending id
 * whose hash expired (it outlived the retention) is dropped from the set.
 */
const PENDING = new LuaScript(
  `local out = {redis.call('GET', KEYS[3]) or '0'}
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf', 'WITHSCORES', 'LIMIT', 0, ARGV[2])
for i = 1, #ids, 2 do
  local f = redis.call('HMGET', KEYS[1] .. ids[i], 'data', 'attempt')
  if f[1] then
    out[#out + 1] = ids[i]
    out[#out + 1] = ids[i + 1]
    out[#out + 1] = f[1]
    out[#out + 1] = f[2] or ''
  else
    redis.call('ZREM', KEYS[2], ids[i])
  end
end
return out`,
  3,
);

export type AcceptOutcome =
  | {
      readonly kind: 'exists';
      readonly requestHash: string;
      readonly messageId: string;
      readonly outcome: OutboundOutcome | undefined;
    }
  | {
      readonly kind: 'new';
      readonly seq: number;
      readonly leaseValue: string | undefined;
      /** Subscribers the holder's notice reached (on a Cluster: on one node only). */
      readonly receivers: number;
    };

export interface MarkResult {
  /** Redis time before the sends: event log ids after it were appended after this point. */
  readonly logMarkMs: number;
  /** Rocket.Chat asked to hold this user's sends for this long (0: not held). */
  readonly holdMs: number;
  /** Attempts so far per job (this one included); 0 for a job already final. */
  readonly attempts: readonly number[];
}

export interface PendingJob {
  readonly jobId: string;
  readonly seq: number;
  readonly data: OutboundJobData;
  /** An earlier attempt may have reached Rocket.Chat. */
  readonly mayHaveRun: boolean;
}

export interface JobRecord {
  readonly kind: OutboundJobData['kind'];
  readonly roomId: string;
  readonly messageId: string;
  readonly outcome: OutboundOutcome | undefined;
  readonly data: OutboundJobData | undefined;
}

/** The name of the consumer that keeps a user with sends to make wanted. */
export const OUTBOX_CONSUMER_ID = 'outbox';

export class OutboxStore {
  readonly #redis: RedisClient;
  readonly #keys: GatewayKeys;
  readonly retentionMs: number;
  readonly #now: () => number;

  constructor(redis: RedisClient, keys: GatewayKeys, retentionMs: number, now: () => number = Date.now) {
    this.#redis = redis;
    this.#keys = keys;
    this.retentionMs = retentionMs;
    this.#now = now;
  }

  async accept(
    userId: string,
    jobId: string,
    data: OutboundJobData,
    wantedUntilMs: number,
  ): Promise<AcceptOutcome> {
    const k = this.#keys.user(userId);
    const notice = outboundNoticeParts(userId, jobId);
    const reply = await ACCEPT.run<(string | number)[]>(
      this.#redis,
      [
        k.outboundJob(jobId),
        k.outboundPending,
        k.outboundSeq,
        k.outboundMessages,
        k.lease,
        k.consumers,
        k.consumerTopics,
      ],
      [
        jobId,
        JSON.stringify(data),
        data.messageId,
        data.requestHash,
        data.acceptId,
        this.retentionMs,
        OUTBOX_CONSUMER_ID,
        wantedUntilMs,
        data.kind === 'send' ? '1' : '0',
        data.roomId,
        data.kind,
        this.#keys.workerRpcChannel(''),
        notice.beforeSeq,
        notice.beforeData,
      ],
    );
    if (reply[0] === 'exists') {
      const outcome = String(reply[3] ?? '');
      return {
        kind: 'exists',
        requestHash: String(reply[1] ?? ''),
        messageId: String(reply[2] ?? ''),
        outcome: outcome ? (JSON.parse(outcome) as OutboundOutcome) : undefined,
      };
    }
    return {
      kind: 'new',
      seq: Number(reply[1]),
      leaseValue: reply[2] ? String(reply[2]) : undefined,
      receivers: Number(reply[3]),
    };
  }

  async mark(userId: string, jobIds: readonly string[]): Promise<MarkResult> {
    const k = this.#keys.user(userId);
    const reply = await MARK.run<(string | number)[]>(
      this.#redis,
      [k.outboundJob(''), k.outboundRateLimit],
      [this.#now(), ...jobIds],
    );
    return {
      logMarkMs: Number(reply[0]),
      holdMs: Math.max(0, Number(reply[1])),
      attempts: reply.slice(2).map(Number),
    };
  }

  /** Records outcomes; resolves with the jobs this call recorded (not finished before). */
  async finish(
    userId: string,
    outcomes: readonly { readonly jobId: string; readonly outcome: OutboundOutcome }[],
  ): Promise<boolean[]> {
    if (outcomes.length === 0) return [];
    const k = this.#keys.user(userId);
    const reply = await FINISH.run<number[]>(
      this.#redis,
      [k.outboundJob(''), k.outboundPending],
      [this.retentionMs, ...outcomes.flatMap((o) => [o.jobId, JSON.stringify(o.outcome)])],
    );
    return reply.map((recorded) => recorded === 1);
  }

  /** Jobs still to do with a sequence number after `afterSeq`, oldest first, and the newest seq given out. */
  async pending(
    userId: string,
    afterSeq: number,
    limit: number,
  ): Promise<{ readonly newestSeq: number; readonly jobs: PendingJob[] }> {
    const k = this.#keys.user(userId);
    const reply = await PENDING.run<string[]>(
      this.#redis,
      [k.outboundJob(''), k.outboundPending, k.outboundSeq],
      [afterSeq, limit],
    );
    const jobs: PendingJob[] = [];
    for (let i = 1; i + 3 < reply.length + 1; i += 4) {
      jobs.push({
        jobId: reply[i]!,
        seq: Number(reply[i + 1]),
        data: JSON.parse(reply[i + 2]!) as OutboundJobData,
        mayHaveRun: reply[i + 3] !== '',
      });
    }
    return { newestSeq: Number(reply[0]), jobs };
  }

  async record(userId: string, jobId: string): Promise<JobRecord | undefined> {
    const [messageId, outcome, data, roomId, kind] = await this.#redis.hmget(
      this.#keys.user(userId).outboundJob(jobId),
      'messageId',
      'outcome',
      'data',
      'roomId',
      'kind',
    );
    if (!messageId || !roomId || !kind) return undefined;
    return {
      kind: kind as OutboundJobData['kind'],
      roomId,
      messageId,
      outcome: outcome ? (JSON.parse(outcome) as OutboundOutcome) : undefined,
      data: data ? (JSON.parse(data) as OutboundJobData) : undefined,
    };
  }

  /** Holds all of the user's sends for `ms` (Rocket.Chat's `too-many-requests`), for whoever sends next. */
  async holdUser(userId: string, ms: number): Promise<void> {
    await this.#redis.set(this.#keys.user(userId).outboundRateLimit, '1', 'PX', Math.max(1, Math.ceil(ms)));
  }

  async pendingCount(userId: string): Promise<number> {
    return this.#redis.zcard(this.#keys.user(userId).outboundPending);
  }
}
