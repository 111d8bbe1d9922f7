/**
 * Delivery bookkeeping beside each webhook, all under the owner's hash tag so every script below
 * touches one Cluster slot:
 * - the per-endpoint semaphore: a ZSET of delivery job ids in flight, scored by when the hold
 *   expires (a worker killed mid-attempt frees its slot by expiry; the same job retried by
 *   another worker takes its own slot back at once, since the member is the job id);
 * - recent attempts: a LIST, newest first, holding `maxAttemptRecords` to twice that (trimmed in
 *   bulk), for `GET /v1/webhooks/:id/deliveries`;
 * - dead letters: deliveries that exhausted their retries (or were refused while the endpoint was
 *   disabled), a ZSET event id -> event time plus a HASH of bodies, bounded, for `replay`;
 * - the consecutive-failure count on the webhook record, and the switch to `disabled`;
 * - statistics on the record (successes, failures, the latest of each) and the pending set (jobs
 *   added and not finished: the backlog), moved by the same finish script;
 * - the message ids `rocketchat` replies created (their deliveries say `bot: true`): one global,
 *   bounded set, since every webhook must see them as bot messages, not only the one that replied.
 *
 * Starting and finishing an attempt are one script each, so the bookkeeping costs two round trips
 * per attempt whatever happens.
 */

import type { WebhookDeliveryOutcome } from '../metrics/index.js';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import { LuaScript } from '../redis/lua-script.js';
import { readNumbered } from '../redis/numbered-list.js';
import { type DisabledReason, WEBHOOK_FIELDS, type WebhookFormat } from './webhook-store.js';

export type DeliveryBeginResult =
  | { readonly kind: 'missing' }
  | { readonly kind: 'disabled'; readonly reason: DisabledReason }
  | { readonly kind: 'busy' }
  | {
      readonly kind: 'go';
      readonly url: string;
      readonly sealedSecret: string;
      readonly sealedPreviousSecret: string | undefined;
      readonly previousSecretUntilMs: number | undefined;
      readonly format: WebhookFormat;
      /** The sealed `rocketchat` token ('' when none). */
      readonly sealedToken: string;
      /** The sealed custom headers ('' when none). */
      readonly sealedHeaders: string;
    };

/** One attempt as `GET /v1/webhooks/:id/deliveries` shows it. */
export interface AttemptRecord {
  readonly eventId: string;
  readonly eventType: string;
  /** 1 for the first attempt of a delivery. */
  readonly attempt: number;
  readonly atMs: number;
  readonly statusCode: number | null;
  readonly durationMs: number;
  readonly outcome: WebhookDeliveryOutcome;
  readonly error: string | null;
  /** When the next attempt is due, if there will be one. */
  readonly nextAttemptAtMs: number | null;
  /** `rocketchat` webhooks: the outbound job that posts the receiver's reply into the room. */
  readonly replyJobId?: string;
  /** `rocketchat` webhooks: why a reply the receiver asked for was not posted. */
  readonly replyError?: string;
}

/** An attempt with its place in the webhook's attempt history (1 = the first ever recorded). */
export interface NumberedAttempt {
  readonly seq: number;
  readonly attempt: AttemptRecord;
}

/** Which attempts `attemptsPage` returns; absent fields do not filter. */
export interface AttemptFilter {
  /** `succeeded`, `failed`, or outcomes by name. */
  readonly outcomes?: ReadonlySet<string>;
  readonly eventTypes?: ReadonlySet<string>;
  readonly sinceMs?: number;
  readonly untilMs?: number;
}

/** How an attempt ends the delivery: `ok`, `retry` (another attempt follows), `final` (dead letter) or `gone` (410). */
export type FinishKind = 'ok' | 'retry' | 'final' | 'gone';

export interface DeadLetter {
  readonly eventId: string;
  readonly eventType: string;
  readonly eventTimeMs: number;
  /** The envelope, byte for byte as it would have been sent. */
  readonly payload: string;
  readonly failedAtMs: number;
  readonly error: string;
}

export interface FinishInput {
  readonly jobId: string;
  readonly attempt: AttemptRecord;
  readonly kind: FinishKind;
  /** Required for `final` and `gone`. */
  readonly deadLetter?: DeadLetter;
  /** 0 never disables. */
  readonly disableAfterFailures: number;
  readonly nowMs: number;
}

export interface FinishResult {
  readonly consecutiveFailures: number;
  /** This attempt switched the endpoint off (exactly one caller ever sees true per disablement). */
  readonly disabledNow: DisabledReason | undefined;
}

export interface DeliveryLedgerOptions {
  readonly redis: RedisClient;
  readonly keys: GatewayKeys;
  /** Attempts kept per webhook. @defaultValue 100 */
  readonly maxAttemptRecords?: number;
  /** Dead letters kept per webhook; the oldest events go first. @defaultValue 10000 */
  readonly maxDeadLetters?: number;
}

/** The webhook store's field names, as the Lua table `F` the record-touching scripts use. */
const WEBHOOK_RECORD = { constants: { F: WEBHOOK_FIELDS } };

// Each script's KEYS, ARGV and reply are in the header of its file.
const BEGIN_SCRIPT = LuaScript.fromFile(import.meta.url, './delivery-ledger/begin.lua', 3, WEBHOOK_RECORD);

const FINISH_SCRIPT = LuaScript.fromFile(import.meta.url, './delivery-ledger/finish.lua', 7, WEBHOOK_RECORD);

const MARK_REPLY_SCRIPT = LuaScript.fromFile(import.meta.url, './delivery-ledger/mark-reply.lua', 1);

const ADD_DEAD_SCRIPT = LuaScript.fromFile(import.meta.url, './delivery-ledger/add-dead.lua', 3);

const REMOVE_DEAD_SCRIPT = LuaScript.fromFile(import.meta.url, './delivery-ledger/remove-dead.lua', 2);

interface DeadBody {
  readonly eventType: string;
  readonly eventTimeMs: number;
  readonly payload: string;
  readonly failedAtMs: number;
  readonly error: string;
}

export class DeliveryLedger {
  readonly #redis: RedisClient;
  readonly #keys: GatewayKeys;
  readonly maxAttemptRecords: number;
  readonly maxDeadLetters: number;
  constructor(options: DeliveryLedgerOptions) {
    this.#redis = options.redis;
    this.#keys = options.keys;
    this.maxAttemptRecords = options.maxAttemptRecords ?? 100;
    this.maxDeadLetters = options.maxDeadLetters ?? 10_000;
    if (!(this.maxAttemptRecords >= 1) || !(this.maxDeadLetters >= 1)) {
      throw new RangeError('ledger bounds must be at least 1');
    }
  }

  /**
   * Reads the endpoint and takes one of its `limit` in-flight slots for `jobId` until `holdUntilMs`.
   * `busy` when every slot is taken; nothing is held unless the result is `go`. With
   * `pendingSinceMs`, the job is marked pending first, in the same script (`markPending` for a
   * job that is being stored now: one command per pass fewer for the dispatcher's first attempts).
   */
  async begin(
    userId: string,
    webhookId: string,
    jobId: string,
    nowMs: number,
    holdUntilMs: number,
    limit: number,
    pendingSinceMs?: number,
  ): Promise<DeliveryBeginResult> {
    const keys = this.#keys.user(userId);
    const reply = await BEGIN_SCRIPT.run<(string | number)[]>(
      this.#redis,
      [keys.webhook(webhookId), keys.webhookInflight(webhookId), keys.webhookPending(webhookId)],
      [nowMs, holdUntilMs, limit, jobId, pendingSinceMs ?? ''],
    );
    switch (Number(reply[0])) {
      case -1:
        return { kind: 'missing' };
      case -2:
        return { kind: 'disabled', reason: String(reply[1]) as DisabledReason };
      case 0:
        return { kind: 'busy' };
      default: {
        const previous = String(reply[3] ?? '');
        const until = String(reply[4] ?? '');
        return {
          kind: 'go',
          url: String(reply[1]),
          sealedSecret: String(reply[2]),
          sealedPreviousSecret: previous === '' ? undefined : previous,
          previousSecretUntilMs: until === '' ? undefined : Number(until),
          format: String(reply[5] ?? '') === 'rocketchat' ? 'rocketchat' : 'gateway',
          sealedToken: String(reply[6] ?? ''),
          sealedHeaders: String(reply[7] ?? ''),
        };
      }
    }
  }

  /** Gives the slot back and records the attempt and its consequences, in one script. */
  async finish(userId: string, webhookId: string, input: FinishInput): Promise<FinishResult> {
    const keys = this.#keys.user(userId);
    const letter = input.deadLetter;
    if ((input.kind === 'final' || input.kind === 'gone') && !letter) {
      throw new TypeError('a final failure needs its dead letter');
    }
    const reply = await FINISH_SCRIPT.run<[number, string]>(
      this.#redis,
      [
        keys.webhookInflight(webhookId),
        keys.webhookAttempts(webhookId),
        keys.webhook(webhookId),
        keys.webhookDeadLetters(webhookId),
        keys.webhookDeadLetterBodies(webhookId),
        keys.webhookPending(webhookId),
        keys.webhookVersion,
      ],
      [
        input.jobId,
        JSON.stringify(input.attempt),
        this.maxAttemptRecords,
        input.kind,
        letter?.eventId ?? '',
        letter?.eventTimeMs ?? 0,
        letter ? JSON.stringify(deadBody(letter)) : '',
        this.maxDeadLetters,
        input.disableAfterFailures,
        input.nowMs,
        (input.attempt.error ?? '').slice(0, 300),
        input.attempt.statusCode === null ? '' : input.attempt.statusCode,
      ],
    );
    const reason = String(reply[1]);
    return {
      consecutiveFailures: Number(reply[0]),
      disabledNow: reason === '' ? undefined : (reason as DisabledReason),
    };
  }

  /** Gives a slot back without recording anything (an attempt that never started). */
  async release(userId: string, webhookId: string, jobId: string): Promise<void> {
    await this.#redis.zrem(this.#keys.user(userId).webhookInflight(webhookId), jobId);
  }

  /** Recent attempts, newest first (at most `maxAttemptRecords`). */
  async attempts(userId: string, webhookId: string, limit: number): Promise<AttemptRecord[]> {
    const count = Math.min(limit, this.maxAttemptRecords);
    const raw = await this.#redis.lrange(this.#keys.user(userId).webhookAttempts(webhookId), 0, count - 1);
    return raw.map((json) => JSON.parse(json) as AttemptRecord);
  }

  /**
   * One page of attempts, newest first, after the attempt numbered `beforeSeq` (exclusive; all
   * when undefined), keeping those `filter` lets through. `hasMore` says whether older attempts
   * were left unexamined.
   */
  async attemptsPage(
    userId: string,
    webhookId: string,
    beforeSeq: number | undefined,
    limit: number,
    filter: AttemptFilter = {},
  ): Promise<{ attempts: NumberedAttempt[]; hasMore: boolean }> {
    const keys = this.#keys.user(userId);
    // Numbered by the finish script's `attemptSeq` (see src/redis/numbered-list.ts).
    const entries = await readNumbered(
      this.#redis,
      keys.webhook(webhookId),
      WEBHOOK_FIELDS.attemptSeq,
      keys.webhookAttempts(webhookId),
      beforeSeq,
    );
    const attempts: NumberedAttempt[] = [];
    for (const [i, { seq, raw }] of entries.entries()) {
      const attempt = JSON.parse(raw) as AttemptRecord;
      if (!matches(attempt, filter)) continue;
      attempts.push({ seq, attempt });
      if (attempts.length === limit) return { attempts, hasMore: i < entries.length - 1 };
    }
    return { attempts, hasMore: false };
  }

  /**
   * Jobs added for the endpoint and not finished yet (call before adding them to the queue).
   * `on`: the connection to send it on, when the caller orders it with its own commands there
   * (the dispatcher sends it ahead of the jobs on the queue's connection).
   */
  async markPending(
    userId: string,
    webhookId: string,
    jobIds: readonly string[],
    nowMs: number,
    on: RedisClient = this.#redis,
  ): Promise<void> {
    if (jobIds.length === 0) return;
    await on.zadd(
      this.#keys.user(userId).webhookPending(webhookId),
      'NX',
      ...jobIds.flatMap((jobId) => [nowMs, jobId]),
    );
  }

  /** A job ended without an attempt (dropped, or refused by a disabled endpoint). */
  async settlePending(userId: string, webhookId: string, jobId: string): Promise<void> {
    await this.#redis.zrem(this.#keys.user(userId).webhookPending(webhookId), jobId);
  }

  /** Deliveries added and not finished (as far as the finish script knows). */
  async backlog(userId: string, webhookId: string): Promise<number> {
    return this.#redis.zcard(this.#keys.user(userId).webhookPending(webhookId));
  }

  /** Up to `limit` pending job ids added before `beforeMs`, oldest first: the ones worth checking. */
  async pendingBefore(userId: string, webhookId: string, beforeMs: number, limit: number): Promise<string[]> {
    return this.#redis.zrangebyscore(
      this.#keys.user(userId).webhookPending(webhookId),
      '-inf',
      `(${beforeMs}`,
      'LIMIT',
      0,
      limit,
    );
  }

  /** Forgets pending entries whose jobs are known to be over. */
  async settlePendingMany(userId: string, webhookId: string, jobIds: readonly string[]): Promise<void> {
    if (jobIds.length > 0)
      await this.#redis.zrem(this.#keys.user(userId).webhookPending(webhookId), ...jobIds);
  }

  /** Remembers a message the gateway posted as a `rocketchat` reply (the newest 100 000 are kept). */
  async markReply(messageId: string, nowMs: number): Promise<void> {
    await MARK_REPLY_SCRIPT.run(this.#redis, [this.#keys.webhookReplyMessages], [messageId, nowMs, 100_000]);
  }

  async isReply(messageId: string): Promise<boolean> {
    return (await this.#redis.zscore(this.#keys.webhookReplyMessages, messageId)) !== null;
  }

  /** Adds dead letters for a webhook that still exists (the dispatcher's, for disabled endpoints). */
  async addDeadLetters(userId: string, webhookId: string, letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const keys = this.#keys.user(userId);
    const args: (string | number)[] = [this.maxDeadLetters];
    for (const letter of letters)
      args.push(letter.eventId, letter.eventTimeMs, JSON.stringify(deadBody(letter)));
    await ADD_DEAD_SCRIPT.run(
      this.#redis,
      [keys.webhook(webhookId), keys.webhookDeadLetters(webhookId), keys.webhookDeadLetterBodies(webhookId)],
      args,
    );
  }

  /** Dead letters whose event time is in [sinceMs, untilMs], oldest event first. */
  async deadLetters(
    userId: string,
    webhookId: string,
    sinceMs: number,
    untilMs: number,
    limit: number,
  ): Promise<DeadLetter[]> {
    const keys = this.#keys.user(userId);
    const ids = await this.#redis.zrangebyscore(
      keys.webhookDeadLetters(webhookId),
      sinceMs,
      untilMs,
      'LIMIT',
      0,
      limit,
    );
    if (ids.length === 0) return [];
    const bodies = await this.#redis.hmget(keys.webhookDeadLetterBodies(webhookId), ...ids);
    const letters: DeadLetter[] = [];
    ids.forEach((eventId, i) => {
      const body = bodies[i];
      if (!body) return;
      const parsed = JSON.parse(body) as DeadBody;
      letters.push({ eventId, ...parsed });
    });
    return letters;
  }

  /** Removes dead letters that were re-enqueued, unless they failed again meanwhile. */
  async removeDeadLetters(
    userId: string,
    webhookId: string,
    letters: readonly DeadLetter[],
  ): Promise<number> {
    if (letters.length === 0) return 0;
    const keys = this.#keys.user(userId);
    return REMOVE_DEAD_SCRIPT.run<number>(
      this.#redis,
      [keys.webhookDeadLetters(webhookId), keys.webhookDeadLetterBodies(webhookId)],
      letters.flatMap((letter) => [letter.eventId, String(letter.failedAtMs)]),
    );
  }

  /** The dead letter of `eventId`, if the endpoint keeps one. */
  async deadLetter(userId: string, webhookId: string, eventId: string): Promise<DeadLetter | undefined> {
    const body = await this.#redis.hget(this.#keys.user(userId).webhookDeadLetterBodies(webhookId), eventId);
    return body ? { eventId, ...(JSON.parse(body) as DeadBody) } : undefined;
  }

  async deadLetterCount(userId: string, webhookId: string): Promise<number> {
    return this.#redis.zcard(this.#keys.user(userId).webhookDeadLetters(webhookId));
  }
}

function matches(attempt: AttemptRecord, filter: AttemptFilter): boolean {
  if (filter.outcomes) {
    const wanted =
      filter.outcomes.has(attempt.outcome) ||
      (filter.outcomes.has('succeeded') && attempt.outcome === 'success') ||
      (filter.outcomes.has('failed') && attempt.outcome !== 'success');
    if (!wanted) return false;
  }
  if (filter.eventTypes && !filter.eventTypes.has(attempt.eventType)) return false;
  if (filter.sinceMs !== undefined && attempt.atMs < filter.sinceMs) return false;
  if (filter.untilMs !== undefined && attempt.atMs > filter.untilMs) return false;
  return true;
}

function deadBody(letter: DeadLetter): DeadBody {
  return {
    eventType: letter.eventType,
    eventTimeMs: letter.eventTimeMs,
    payload: letter.payload,
    failedAtMs: letter.failedAtMs,
    error: letter.error,
  };
}
