/**
 * The producer side of outbound sending, used by the HTTP tier: accepts a request durably
 * (a BullMQ job, its place in the lane of its user and room), answers status queries, and finds
 * the room of a message that an edit, deletion or reaction targets.
 *
 * Idempotency: with an `Idempotency-Key`, the job id is derived from the user and the key, so
 * the same key from the same user can only ever name one job (BullMQ ignores an `add` whose id
 * exists), and therefore one Rocket.Chat message id. Concurrent requests with one key race to
 * the same id; whoever loses reads the winner's job back. Jobs are kept for `retentionMs`, the
 * window in which a key is remembered.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type Job, Queue } from 'bullmq';
import { createError } from '../errors.js';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import { mapUpstreamError } from '../rocketchat/errors.js';
import type { RocketChatRestClient } from '../rocketchat/rest-client.js';
import type { CredentialStore } from '../sessions/credential-store.js';
import { OutboundLanes } from './lanes.js';
import { isMessageId, newMessageId } from './message-id.js';
import type { OutboundJobData, OutboundJobView, OutboundOutcome, OutboundRequest } from './types.js';

/** The BullMQ queue name (keys live under `config.redis.queuePrefix`). */
export const OUTBOUND_QUEUE_NAME = 'outbound';
/** Custom backoff type, computed by the worker (see `outboundBackoffMs`). */
export const OUTBOUND_BACKOFF_TYPE = 'gateway-outbound';
const JOB_ID_PREFIX = 'out_';

export type OutboundBullJob = Job<OutboundJobData, OutboundOutcome>;

export interface OutboundQueueOptions {
  /** Shared command connection (BullMQ and the lane scripts run on it; it is not closed here). */
  readonly redis: RedisClient;
  readonly keys: GatewayKeys;
  /** BullMQ `prefix`: `config.redis.queuePrefix`. */
  readonly queuePrefix: string;
  /** `config.outbound.maxAttempts`: attempts before a job is reported failed. */
  readonly maxAttempts: number;
  /** To find the room of a message the gateway did not send (edit, delete, react by message id). */
  readonly rest: RocketChatRestClient;
  readonly credentials: CredentialStore;
  /**
   * How long finished jobs (and so Idempotency-Keys and statuses) are kept.
   * @defaultValue 86400000 (24 h)
   */
  readonly retentionMs?: number;
  /**
   * How long a job that is not at the head of its lane waits before looking again, should the
   * job ahead fail to wake it (it normally does, at once). @defaultValue 15000
   */
  readonly parkMs?: number;
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
  readonly lanes: OutboundLanes;
  readonly retentionMs: number;
  readonly parkMs: number;
  readonly #options: OutboundQueueOptions;
  readonly #now: () => number;
  #closing: Promise<void> | undefined;

  constructor(options: OutboundQueueOptions) {
    if (!(options.maxAttempts >= 1)) throw new RangeError('maxAttempts must be at least 1');
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.retentionMs = options.retentionMs ?? 86_400_000;
    this.parkMs = options.parkMs ?? 15_000;
    this.queue = new Queue<OutboundJobData, OutboundOutcome>(OUTBOUND_QUEUE_NAME, {
      connection: options.redis,
      prefix: options.queuePrefix,
    });
    // Errors also surface on the awaited calls; this only keeps an unhandled 'error' from throwing.
    this.queue.on('error', () => {});
    this.lanes = new OutboundLanes({
      redis: options.redis,
      keys: options.keys,
      retentionMs: this.retentionMs,
      now: this.#now,
    });
  }

  /**
   * Queues `request` for `userId`. With `idempotencyKey`, a repeat (same user, same key) returns
   * the first job instead; the same key with a different request is `GW_ERR_CONFLICT`.
   */
  async accept(userId: string, request: OutboundRequest, idempotencyKey?: string): Promise<AcceptResult> {
    const requestHash = hashRequest(request);
    const jobId = idempotencyKey === undefined ? randomJobId() : idempotentJobId(userId, idempotencyKey);
    if (idempotencyKey !== undefined) {
      const existing = await this.queue.getJob(jobId);
      if (existing) return { view: this.#sameRequest(existing, requestHash), isNew: false };
    }
    const data = jobData(userId, request, requestHash, this.#now());
    const position = await this.lanes.enqueue(
      userId,
      request.roomId,
      jobId,
      data.kind === 'send' ? data.messageId : undefined,
    );
    let job: OutboundBullJob = await this.queue.add(request.kind, data, {
      jobId,
      // Not the head: park until the job ahead finishes and wakes this one (see below for a
      // job ahead that finishes before this add).
      delay: position > 0 ? this.parkMs : 0,
      attempts: this.#options.maxAttempts,
      backoff: { type: OUTBOUND_BACKOFF_TYPE },
      removeOnComplete: { age: Math.ceil(this.retentionMs / 1000) },
      removeOnFail: { age: Math.ceil(this.retentionMs / 1000) },
    });
    // The job ahead may have finished between our place in the lane and this add: its wake-up
    // found no job to promote. Parked now, the job can be promoted; do it if it leads the lane.
    if (position > 0 && (await this.lanes.head(userId, request.roomId)) === jobId) await this.promote(jobId);
    let isNew = true;
    if (idempotencyKey !== undefined) {
      // `add` ignores an id that exists and hands back our data anyway: read what was stored.
      const stored = await this.queue.getJob(jobId);
      if (!stored) throw createError('GW_ERR_INTERNAL', 'an accepted outbound job vanished');
      isNew = stored.data.acceptId === data.acceptId;
      if (!isNew) return { view: this.#sameRequest(stored, requestHash), isNew };
      job = stored;
    }
    return { view: viewOf(job), isNew };
  }

  /** The job as the API shows it, or undefined when it does not exist or is another user's. */
  async get(userId: string, jobId: string): Promise<OutboundJobView | undefined> {
    const job = await this.#ownJob(userId, jobId);
    return job ? viewOf(job) : undefined;
  }

  /**
   * The message that `id` names for `userId`: one of the user's outbound send jobs, a message
   * the gateway sent (by its Rocket.Chat id, even while still queued), or any message the user
   * can see in Rocket.Chat. `GW_ERR_NOT_FOUND` otherwise.
   */
  async resolveTarget(userId: string, id: string): Promise<MessageTarget> {
    const notFound = createError('GW_ERR_NOT_FOUND', 'no such message or outbound job');
    if (id.startsWith(JOB_ID_PREFIX)) {
      const job = await this.#ownJob(userId, id);
      if (job?.data.kind !== 'send') throw notFound;
      return { messageId: job.data.messageId, roomId: job.data.roomId };
    }
    if (!isMessageId(id)) throw notFound;
    const jobId = await this.#options.redis.hget(this.#options.keys.user(userId).outboundMessages, id);
    const job = jobId ? await this.#ownJob(userId, jobId) : undefined;
    if (job) return { messageId: job.data.messageId, roomId: job.data.roomId };
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

  /**
   * Moves a parked (delayed) job to the wait list; a job in any other state is left alone.
   * Resolves false when no such job exists (yet: its accept may still be adding it).
   */
  async promote(jobId: string): Promise<boolean> {
    try {
      await this.queue.backend.promote(jobId);
      return true;
    } catch {
      // Not delayed (waiting, active, finished) or not there at all.
      return (await this.queue.getJob(jobId)) !== undefined;
    }
  }

  /** Closes the BullMQ queue handle (the shared connection stays open). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.queue.close();
    return this.#closing;
  }

  async #ownJob(userId: string, jobId: string): Promise<OutboundBullJob | undefined> {
    if (!jobId.startsWith(JOB_ID_PREFIX)) return undefined;
    const job = await this.queue.getJob(jobId);
    return job && job.data?.userId === userId ? job : undefined;
  }

  #sameRequest(job: OutboundBullJob, requestHash: string): OutboundJobView {
    if (job.data.requestHash !== requestHash) {
      throw createError('GW_ERR_CONFLICT', 'this Idempotency-Key was used with a different request');
    }
    return viewOf(job);
  }
}

/** A job's status from what BullMQ stored: its return value once finished, `queued` before. */
export function viewOf(job: OutboundBullJob): OutboundJobView {
  const base = { id: job.id ?? '', messageId: job.data.messageId };
  if (job.finishedOn) {
    const outcome = job.returnvalue;
    if (outcome?.status === 'sent') return { ...base, status: 'sent' };
    if (outcome?.status === 'failed') return { ...base, status: 'failed', error: outcome.error };
    // Failed by BullMQ itself (it stalled too often): the processor never recorded a reason.
    return {
      ...base,
      status: 'failed',
      error: { code: 'GW_ERR_INTERNAL', message: 'the job could not be completed' },
    };
  }
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
