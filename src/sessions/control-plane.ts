/**
 * The messages gateway processes send each other through Redis Pub/Sub, in one place: what a
 * caller asks of the worker holding a user's session, what that worker answers, and the notices
 * that tell workers a user's needs changed. Every message carries a version, is built by the
 * helpers below and is shape-checked when read: anything with access to Redis can publish on
 * these channels, and a junk message must be dropped, never thrown inside a subscriber.
 *
 * Channels (see `src/redis/keys.ts`):
 * - `workerRpcChannel(worker)`: requests (`call`, `ensure-topics`) for the sessions it holds, and
 *   `outbound` (a job was accepted for one of them: send it; without a job: look at the outbox);
 * - `replyChannel(process)`: `ack` (the worker took a request, before running it) and `reply`;
 * - `userControlChannel(user)`: `credentials-changed`, `consumers-changed`;
 * - `wantedChannel`: `wanted` (a user needs a session now; workers race to claim it).
 */
import { z } from 'zod';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';

export const CONTROL_PLANE_VERSION = 1;

/** A failure carried back to the caller, rebuilt there as the same kind of error. */
const serializedErrorSchema = z.object({
  kind: z.enum(['remote', 'timeout', 'disconnected', 'not-owner', 'other']),
  message: z.string(),
  remote: z
    .object({
      error: z.union([z.string(), z.number()]),
      reason: z.string().optional(),
      details: z.unknown().optional(),
    })
    .optional(),
  mayHaveRun: z.boolean().optional(),
  code: z.string().optional(),
});

const base = { v: z.literal(CONTROL_PLANE_VERSION) };
const request = { ...base, id: z.string().min(1), replyTo: z.string().min(1), userId: z.string().min(1) };
const timeoutMs = z.number().positive().max(3_600_000);

const controlMessageSchema = z.discriminatedUnion('kind', [
  z.object({
    ...request,
    kind: z.literal('call'),
    method: z.string().min(1),
    params: z.array(z.unknown()),
    timeoutMs,
  }),
  z.object({ ...request, kind: z.literal('ensure-topics'), topics: z.array(z.string()), timeoutMs }),
  z.object({ ...base, kind: z.literal('ack'), id: z.string().min(1) }),
  z.object({
    ...base,
    kind: z.literal('reply'),
    id: z.string().min(1),
    result: z.unknown().optional(),
    error: serializedErrorSchema.optional(),
  }),
  z.object({ ...base, kind: z.literal('credentials-changed'), userId: z.string().min(1) }),
  z.object({
    ...base,
    kind: z.literal('consumers-changed'),
    userId: z.string().min(1),
    // Set when the change was one consumer registered for the first time: the user's topics can
    // only have grown, by these. Absent: anything may have changed, read them all again.
    addedTopics: z.array(z.string()).optional(),
  }),
  z.object({ ...base, kind: z.literal('wanted'), userId: z.string().min(1) }),
  z.object({
    ...base,
    kind: z.literal('outbound'),
    userId: z.string().min(1),
    // The job as accepted (its data is checked again by the outbox before it is used).
    job: z
      .object({
        id: z.string().min(1),
        seq: z.number().int().positive(),
        data: z.record(z.string(), z.unknown()),
      })
      .optional(),
  }),
]);

export type ControlMessage = z.infer<typeof controlMessageSchema>;
export type SerializedError = z.infer<typeof serializedErrorSchema>;
export type WorkerRequest = Extract<ControlMessage, { kind: 'call' | 'ensure-topics' }>;
export type WorkerResponse = Extract<ControlMessage, { kind: 'ack' | 'reply' }>;
export type Reply = Extract<ControlMessage, { kind: 'reply' }>;
export type UserNotice = Extract<ControlMessage, { kind: 'credentials-changed' | 'consumers-changed' }>;
export type OutboundNotice = Extract<ControlMessage, { kind: 'outbound' }>;

/** What a request asks, without its routing fields. */
export type SessionWork =
  | { readonly kind: 'call'; readonly method: string; readonly params: readonly unknown[] }
  | { readonly kind: 'ensure-topics'; readonly topics: readonly string[] };

/** A received message, or undefined for anything that is not one (wrong JSON, shape or version). */
export function parseControlMessage(raw: string): ControlMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const parsed = controlMessageSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/**
 * An `outbound` notice as two pieces of JSON for the outbox's accept script, which publishes it
 * in the same step as it records the job: `beforeSeq + seq + beforeData + data + '}}'`. Parsed
 * on receipt by the same schema as every other message.
 */
export function outboundNoticeParts(
  userId: string,
  jobId: string,
): { beforeSeq: string; beforeData: string } {
  return {
    beforeSeq: `{"v":${CONTROL_PLANE_VERSION},"kind":"outbound","userId":${JSON.stringify(userId)},"job":{"id":${JSON.stringify(jobId)},"seq":`,
    beforeData: ',"data":',
  };
}

type Unversioned<T> = T extends unknown ? Omit<T, 'v'> : never;

/** Publishes control messages on the channels they belong to. */
export class ControlPublisher {
  readonly #redis: RedisClient;
  readonly #keys: GatewayKeys;

  constructor(redis: RedisClient, keys: GatewayKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  /** Resolves with the number of receivers Redis counted (on a Cluster: on one node only). */
  toWorker(workerId: string, message: Unversioned<WorkerRequest>): Promise<number> {
    return this.#publish(this.#keys.workerRpcChannel(workerId), message);
  }

  /** Tells the worker holding a user's session about its outbox; resolves with the receivers counted. */
  outbound(workerId: string, message: Unversioned<OutboundNotice>): Promise<number> {
    return this.#publish(this.#keys.workerRpcChannel(workerId), message);
  }

  async toCaller(processId: string, message: Unversioned<WorkerResponse>): Promise<void> {
    await this.#publish(this.#keys.replyChannel(processId), message);
  }

  async userNotice(userId: string, kind: UserNotice['kind']): Promise<void> {
    await this.#publish(this.#keys.userControlChannel(userId), { kind, userId });
  }

  /** `consumers-changed` for a consumer new to the user: its topics are all that can have been added. */
  async consumerAdded(userId: string, topics: readonly string[]): Promise<void> {
    await this.#publish(this.#keys.userControlChannel(userId), {
      kind: 'consumers-changed',
      userId,
      addedTopics: [...topics],
    });
  }

  async wanted(userId: string): Promise<void> {
    await this.#publish(this.#keys.wantedChannel, { kind: 'wanted', userId });
  }

  #publish(channel: string, message: Unversioned<ControlMessage>): Promise<number> {
    return this.#redis.publish(channel, JSON.stringify({ v: CONTROL_PLANE_VERSION, ...message }));
  }
}
