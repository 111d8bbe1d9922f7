/**
 * The producer side of outbound sending, used by every process that answers HTTP: accepts a
 * request durably and tells the worker holding the user's session at once, answers status
 * queries, and finds the room of a message that an edit, deletion or reaction targets.
 *
 * Accepting writes two records, in one round trip. The user's outbox in Redis (outbox-store.ts)
 * records the job with the next sequence number of its user: that is the durable record the
 * sender works from, and its order. A BullMQ job with the same id, delayed by `watchdogMs`, is the job's safety net: should
 * the job still be pending when it comes due (no worker held the session, a notice was lost),
 * the watchdog (outbound-watchdog.ts) makes sure a worker takes it up. A job finished in time
 * leaves no work for BullMQ: its record is removed when the outcome is recorded.
 *
 * Idempotency: with an `Idempotency-Key`, the job id is derived from the user and the key, so
 * the same key from the same user can only ever name one job, and therefore one Rocket.Chat
 * message id; the accept script decides atomically which request made it. Outcomes are kept
 * for `retentionMs`, the window in which a key is remembered.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type Job, Queue } from 'bullmq';
import { createError } from '../errors.js';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import { mapUpstreamError } from '../rocketchat/errors.js';
import type { RocketChatRestClient } from '../rocketchat/rest-client.js';
import { ControlPublisher } from '../sessions/control-plane.js';
import type { CredentialStore } from '../sessions/credential-store.js';
import { isMessageId, newMessageId } from './message-id.js';
import { OutboxStore } from './outbox-store.js';
import type { OutboundJobData, OutboundJobView, OutboundOutcome, OutboundRequest } from './types.js';

/** The BullMQ queue name (keys live under `config.redis.queuePrefix`). */
export const OUTBOUND_QUEUE_NAME = 'outbound';
const JOB_ID_PREFIX = 'out_';
/** What the queue gives out (random hex or a base64url hash, 32 characters); anything else names no job. */
const JOB_ID = /^out_[A-Za-z0-9_-]{1,64}$/;

export type OutboundBullJob = Job<OutboundJobData, OutboundOutcome>;

export interface OutboundQueueOptions {
  /** Shared command connection (BullMQ and the outbox scripts run on it; it is not closed here). */
  readonly redis: RedisClient;
  readonly keys: GatewayKeys;
  /** BullMQ `prefix`: `config.redis.queuePrefix`. */
  readonly queuePrefix: string;
  /** To find the room of a message the gateway did not send (edit, delete, react by message id). */
  readonly rest: RocketChatRestClient;
  readonly credentials: CredentialStore;
  /**
   * How long outcomes (and so Idempotency-Keys and statuses) are kept.
   * @defaultValue 86400000 (24 h)
   */
  readonly retentionMs?: number;
  /** How long a job may stay pending before the watchdog looks at it. @defaultValue 10000 */
  readonly watchdogMs?: number;
  /**
   * How long a user stays wanted (a worker holds its session) after its last accepted job.
   * @defaultValue 600000 (10 min)
   */
  readonly wantedMs?: number;
  readonly now?: () => number;
}

export interface AcceptResult {
  readonly view: OutboundJobView;
  /** False when an earlier request with the same Idempotency-Key made the job. */
  readonly isNew: boolean;
}

export interface MessageTarget {
  readonly messageId: string;
  readonly roomId: string;
}

export class OutboundQueue {
  readonly queue: Queue<OutboundJobData, OutboundOutcome>;
  readonly store: OutboxStore;
  readonly retentionMs: number;
  readonly watchdogMs: number;
  readonly wantedMs: number;
  readonly #options: OutboundQueueOptions;
  readonly #control: ControlPublisher;
  readonly #now: () => number;
  /** When this process last extended each user's place in `wantedUsers`. */
  readonly #wantedRefreshedAt = new Map<string, number>();
  #closing: Promise<void> | undefined;

  constructor(options: OutboundQueueOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.retentionMs = options.retentionMs ?? 86_400_000;
    this.watchdogMs = options.watchdogMs ?? 10_000;
    this.wantedMs = options.wantedMs ?? 600_000;
    this.queue = new Queue<OutboundJobData, OutboundOutcome>(OUTBOUND_QUEUE_NAME, {
      connection: options.redis,
      prefix: options.queuePrefix,
    });
    // Errors also surface on the awaited calls; this only keeps an unhandled 'error' from throwing.
    this.queue.on('error', () => {});
    this.store = new OutboxStore(options.redis, options.keys, this.retentionMs, this.#now);
    this.#control = new ControlPublisher(options.redis, options.keys);
  }

  /**
   * Queues `request` for `userId`. With `idempotencyKey`, a repeat (same user, same key) returns
   * the first job instead; the same key with a different request is `GW_ERR_CONFLICT`.
   */
  async accept(userId: string, request: OutboundRequest, idempotencyKey?: string): Promise<AcceptResult> {
    const requestHash = hashRequest(request);
    const jobId = idempotencyKey === undefined ? randomJobId() : idempotentJobId(userId, idempotencyKey);
    const now = this.#now();
    const data = jobData(userId, request, requestHash, now);
    const wantedUntil = now + this.wantedMs;
    // The watchdog's record goes in the same write as the accept script (one round trip before
    // the 202, not two). A record without an accepted job (the script failed, or it found an
    // Idempotency-Key's finished job) is harmless: the watchdog reads the outbox, not the record,
    // and lets it go. BullMQ keeps the first record of a job id that it still holds.
    const [accepted] = await Promise.all([
      this.store.accept(userId, jobId, data, wantedUntil),
      this.queue.add(request.kind, data, {
        jobId,
        delay: this.watchdogMs,
        removeOnComplete: true,
        removeOnFail: true,
      }),
    ]);
    if (accepted.kind === 'exists') {
      if (accepted.requestHash !== requestHash)
        throw createError('GW_ERR_CONFLICT', 'this Idempotency-Key was used with a different request');
      return { view: viewOf(jobId, accepted.messageId, accepted.outcome), isNew: false };
    }
    await Promise.all([
      this.#keepWanted(userId, wantedUntil),
      // The holder heard of the job from the accept script. With none (or one that is gone),
      // the workers are woken: whoever claims the session reads its outbox.
      accepted.receivers > 0 || (accepted.leaseValue !== undefined && this.#options.redis.isCluster)
        ? undefined
        : this.#control.wanted(userId),
    ]);
    return { view: viewOf(jobId, data.messageId, undefined), isNew: true };
  }

  /** The job as the API shows it, or undefined when it does not exist or is another user's. */
  async get(userId: string, jobId: string): Promise<OutboundJobView | undefined> {
    // A hostile id (huge, odd characters) never becomes part of a Redis key.
    if (!JOB_ID.test(jobId)) return undefined;
    const record = await this.store.record(userId, jobId);
    return record ? viewOf(jobId, record.messageId, record.outcome) : undefined;
  }

  /**
   * The message that `id` names for `userId`: one of the user's outbound send jobs, a message
   * the gateway sent (by its Rocket.Chat id, even while still queued), or any message the user
   * can see in Rocket.Chat. `GW_ERR_NOT_FOUND` otherwise.
   */
  async resolveTarget(userId: string, id: string): Promise<MessageTarget> {
    const notFound = createError('GW_ERR_NOT_FOUND', 'no such message or outbound job');
    if (id.startsWith(JOB_ID_PREFIX)) {
      if (!JOB_ID.test(id)) throw notFound;
      const record = await this.store.record(userId, id);
      if (record?.kind !== 'send') throw notFound;
      return { messageId: record.messageId, roomId: record.roomId };
    }
    if (!isMessageId(id)) throw notFound;
    const jobId = await this.#options.redis.hget(this.#options.keys.user(userId).outboundMessages, id);
    const record = jobId ? await this.store.record(userId, jobId) : undefined;
    if (record) return { messageId: record.messageId, roomId: record.roomId };
    const credential = await this.#options.credentials.load(userId);
    if (!credential) throw createError('GW_ERR_NO_CREDENTIALS');
    if (credential.status !== 'valid') throw createError('GW_ERR_CREDENTIALS_INVALID');
    let message: Record<string, unknown> | undefined;
    try {
      message = await this.#options.rest.getMessage({ userId, token: credential.token.reveal() }, id);
    } catch (err) {
      throw mapUpstreamError(err);
    }
    if (!message || typeof message.rid !== 'string') throw notFound;
    return { messageId: id, roomId: message.rid };
  }

  /** Closes the BullMQ queue handle (the shared connection stays open). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.queue.close();
    return this.#closing;
  }

  /**
   * Global (not hash-tagged) key: outside the accept script, so it stays legal on a Cluster.
   * Once per user per tenth of `wantedMs` and process is enough: the expiry only moves forward.
   */
  async #keepWanted(userId: string, wantedUntil: number): Promise<void> {
    const last = this.#wantedRefreshedAt.get(userId);
    const now = this.#now();
    if (last !== undefined && now - last < this.wantedMs / 10) return;
    this.#wantedRefreshedAt.delete(userId);
    this.#wantedRefreshedAt.set(userId, now);
    if (this.#wantedRefreshedAt.size > 10_000) {
      const oldest = this.#wantedRefreshedAt.keys().next().value;
      if (oldest !== undefined) this.#wantedRefreshedAt.delete(oldest);
    }
    await this.#options.redis.zadd(this.#options.keys.wantedUsers, 'GT', wantedUntil, userId);
  }
}

/** A job's status: `queued` until its outcome is recorded. */
export function viewOf(
  jobId: string,
  messageId: string,
  outcome: OutboundOutcome | undefined,
): OutboundJobView {
  const base = { id: jobId, messageId };
  if (outcome?.status === 'sent') return { ...base, status: 'sent' };
  if (outcome?.status === 'failed') return { ...base, status: 'failed', error: outcome.error };
  return { ...base, status: 'queued' };
}

function jobData(
  userId: string,
  request: OutboundRequest,
  requestHash: string,
  now: number,
): OutboundJobData {
  const base = {
    v: 1 as const,
    userId,
    roomId: request.roomId,
    requestHash,
    acceptedAtMs: now,
    acceptId: randomUUID(),
  };
  switch (request.kind) {
    case 'send':
      return { ...base, kind: 'send', messageId: newMessageId(), send: request.send };
    case 'edit':
      return { ...base, kind: 'edit', messageId: request.messageId, text: request.text };
    case 'delete':
      return { ...base, kind: 'delete', messageId: request.messageId };
    case 'reaction':
      return {
        ...base,
        kind: 'reaction',
        messageId: request.messageId,
        emoji: request.emoji,
        shouldReact: request.shouldReact,
      };
  }
}

function randomJobId(): string {
  return JOB_ID_PREFIX + randomUUID().replaceAll('-', '');
}

/** The user id is part of the hash: two users with the same key get two jobs. */
function idempotentJobId(userId: string, key: string): string {
  return JOB_ID_PREFIX + createHash('sha256').update(`${userId}\n${key}`).digest('base64url').slice(0, 32);
}

function hashRequest(request: OutboundRequest): string {
  return createHash('sha256').update(stableJson(request)).digest('base64url');
}

/** JSON with sorted keys, so the same request always hashes the same. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
