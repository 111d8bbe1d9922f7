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

// KEYS, ARGV and reply: see the header of each file.
const ACCEPT = LuaScript.fromFile(import.meta.url, './outbox-store/accept.lua', 7);

const MARK = LuaScript.fromFile(import.meta.url, './outbox-store/mark.lua', 2);

const FINISH = LuaScript.fromFile(import.meta.url, './outbox-store/finish.lua', 2);

const PENDING = LuaScript.fromFile(import.meta.url, './outbox-store/pending.lua', 3);

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
