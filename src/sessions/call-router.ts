/**
 * Runs a method call over a user's upstream session wherever that session lives: locally, on
 * another worker (forwarded through Redis Pub/Sub and awaited), or nowhere yet (then this
 * process's worker claims it, or, on an api-only replica, a worker is woken and awaited).
 * Invariant 1: every caller shares the one session; nobody opens a second one to call faster.
 */
import { randomUUID } from 'node:crypto';
import { DdpDisconnectedError, DdpError, DdpRemoteError, DdpTimeoutError } from '../ddp/index.js';
import { createError } from '../errors.js';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import type { ConsumerRegistry } from './consumer-registry.js';
import type { SessionLeases } from './lease.js';
import type { SessionPool } from './session-pool.js';

interface ForwardedCall {
  readonly id: string;
  readonly replyTo: string;
  readonly userId: string;
  readonly method: string;
  readonly params: readonly unknown[];
  readonly timeoutMs: number;
}

interface SerializedError {
  readonly kind: 'remote' | 'timeout' | 'disconnected' | 'not-owner' | 'other';
  readonly message: string;
  readonly remote?: { error: string | number; reason?: string; details?: unknown };
  readonly mayHaveRun?: boolean;
  readonly code?: string;
}

interface ForwardedReply {
  readonly id: string;
  readonly result?: unknown;
  readonly error?: SerializedError;
}

/** Sent by the owner as soon as it takes a forwarded call, before running it. */
interface ForwardedAck {
  readonly id: string;
  readonly ack: true;
}

interface Waiter {
  /** The owner took the call: if it goes away now, the call may have run. */
  isAcked: boolean;
  readonly resolve: (reply: ForwardedReply) => void;
  readonly timer: NodeJS.Timeout;
  leaseWatch?: NodeJS.Timeout;
}

/** How often a forwarded call checks that its target still owns the session. */
const LEASE_WATCH_MS = 500;

export interface CallRouterOptions {
  readonly redis: RedisClient;
  /** Dedicated Pub/Sub connection; the router owns it. */
  readonly subscriber: RedisClient;
  readonly keys: GatewayKeys;
  readonly leases: SessionLeases;
  readonly consumers: ConsumerRegistry;
  /** This process's worker pool; absent on api-only replicas. */
  readonly pool?: SessionPool;
  readonly processId: string;
  /** Longest wait for a forwarded call or for a session to be claimed. */
  readonly forwardTimeoutMs: number;
}

export class CallRouter {
  readonly #options: CallRouterOptions;
  readonly #waiting = new Map<string, Waiter>();

  constructor(options: CallRouterOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    const { subscriber, keys, pool, processId } = this.#options;
    const replyChannel = keys.replyChannel(processId);
    const rpcChannel = pool ? keys.workerRpcChannel(pool.workerId) : undefined;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === replyChannel) this.#onReply(message);
      else if (channel === rpcChannel) void this.#onForwardedCall(message);
    });
    await subscriber.subscribe(replyChannel, ...(rpcChannel ? [rpcChannel] : []));
  }

  /** Calls `method` as the user. Errors are DDP errors (remote ones keep Rocket.Chat's code). */
  async call(
    userId: string,
    method: string,
    params: readonly unknown[],
    timeoutMs: number,
  ): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; attempt < 3; attempt++) {
      const local = this.#options.pool?.session(userId);
      if (local) return local.call(method, params, Math.max(1, deadline - Date.now()));
      const owner = await this.#ownerOrClaim(userId, deadline);
      if (owner === 'local') continue;
      const reply = await this.#forward(owner, { userId, method, params }, deadline);
      if (reply.error?.kind === 'not-owner') continue;
      if (reply.error) throw deserializeError(reply.error);
      return reply.result;
    }
    throw createError(
      'GW_ERR_UPSTREAM_UNAVAILABLE',
      'the user session moved between workers repeatedly; try again',
    );
  }

  async #ownerOrClaim(userId: string, deadline: number): Promise<string | 'local'> {
    const { leases, pool, consumers } = this.#options;
    for (;;) {
      const owner = await leases.owner(userId);
      if (owner && owner !== pool?.workerId) return owner;
      if (pool) {
        // A session that cannot reach Rocket.Chat keeps trying in the background; the caller
        // waits only until its own deadline.
        const session = await raceDeadline(pool.ensureSession(userId), deadline);
        if (session) return 'local';
        const other = await leases.owner(userId);
        if (other && other !== pool.workerId) return other;
        // Credentials that do not work will not start working by waiting: say so at once.
        // At capacity, another worker may still claim the user before the deadline.
        const refusal = pool.refusalOf(userId);
        if (refusal === 'credentials-invalid') {
          throw createError(
            'GW_ERR_CREDENTIALS_INVALID',
            'the Rocket.Chat token stopped working: POST /v1/sessions again',
          );
        }
        if (refusal === 'no-credentials') {
          throw createError(
            'GW_ERR_NO_CREDENTIALS',
            'no Rocket.Chat credentials registered: POST /v1/sessions first',
          );
        }
      } else if (!owner) {
        // An api-only replica: a short-lived consumer makes the user wanted, a worker claims it.
        await consumers.register(userId, `call:${randomUUID()}`, [], {
          ttlMs: Math.max(1000, deadline - Date.now()),
        });
      }
      if (Date.now() >= deadline) {
        if (pool?.refusalOf(userId) === 'capacity') {
          throw createError('GW_ERR_SESSION_CAPACITY', 'every worker is at WORKER_MAX_SESSIONS');
        }
        throw createError('GW_ERR_UPSTREAM_UNAVAILABLE', 'no worker could hold a session for this user');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async #forward(
    workerId: string,
    call: Pick<ForwardedCall, 'userId' | 'method' | 'params'>,
    deadline: number,
  ): Promise<ForwardedReply> {
    const id = randomUUID();
    const timeoutMs = Math.max(1, deadline - Date.now());
    const request: ForwardedCall = { ...call, id, replyTo: this.#options.processId, timeoutMs };
    let waiter!: Waiter;
    const reply = new Promise<ForwardedReply>((resolve) => {
      waiter = {
        isAcked: false,
        resolve: (answer) => {
          clearTimeout(waiter.timer);
          clearInterval(waiter.leaseWatch);
          this.#waiting.delete(id);
          resolve(answer);
        },
        timer: setTimeout(
          () =>
            waiter.resolve({
              id,
              error: { kind: 'timeout', message: `forwarded call to worker ${workerId} timed out` },
            }),
          timeoutMs,
        ),
      };
      this.#waiting.set(id, waiter);
    });
    const { redis, keys, leases } = this.#options;
    const receivers = await redis.publish(keys.workerRpcChannel(workerId), JSON.stringify(request));
    // On a standalone Redis, 0 receivers means nobody got it: the owner died with its lease
    // still valid. A Cluster counts only the subscribers of the node we published on, so there
    // the lease watch below is what notices a dead owner.
    if (receivers === 0 && !redis.isCluster) {
      waiter.resolve({ id, error: { kind: 'not-owner', message: 'owner is gone' } });
      await new Promise((r) => setTimeout(r, Math.min(250, timeoutMs)));
      return reply;
    }
    waiter.leaseWatch = setInterval(() => {
      leases
        .owner(call.userId)
        .then((owner) => {
          if (owner === workerId || !this.#waiting.has(id)) return;
          // The session moved. Unacknowledged: the old owner never took the call, so it is safe
          // to send again. Acknowledged: it may have run before the owner went away.
          waiter.resolve(
            waiter.isAcked
              ? {
                  id,
                  error: { kind: 'disconnected', message: `worker ${workerId} went away`, mayHaveRun: true },
                }
              : { id, error: { kind: 'not-owner', message: 'owner is gone' } },
          );
        })
        .catch(() => {});
    }, LEASE_WATCH_MS);
    return reply;
  }

  #onReply(message: string): void {
    const reply = parseJsonObject(message) as ForwardedReply | ForwardedAck | undefined;
    if (typeof reply?.id !== 'string') return;
    const waiter = this.#waiting.get(reply.id);
    if (!waiter) return;
    if ('ack' in reply) waiter.isAcked = true;
    else waiter.resolve(reply);
  }

  async #onForwardedCall(message: string): Promise<void> {
    const request = parseForwardedCall(message);
    if (!request) return;
    const session = this.#options.pool?.session(request.userId);
    let reply: ForwardedReply;
    if (!session) {
      reply = { id: request.id, error: { kind: 'not-owner', message: 'not the owner' } };
    } else {
      // Tells the caller the call was taken, before it runs (same connection: it arrives first).
      const ack: ForwardedAck = { id: request.id, ack: true };
      void this.#publishReply(request.replyTo, ack);
      try {
        reply = {
          id: request.id,
          result: await session.call(request.method, request.params, request.timeoutMs),
        };
      } catch (err) {
        reply = { id: request.id, error: serializeError(err) };
      }
    }
    await this.#publishReply(request.replyTo, reply);
  }

  async #publishReply(processId: string, reply: ForwardedReply | ForwardedAck): Promise<void> {
    await this.#options.redis
      .publish(this.#options.keys.replyChannel(processId), JSON.stringify(reply))
      .catch(() => {});
  }

  async close(): Promise<void> {
    for (const [id, waiter] of [...this.#waiting]) {
      waiter.resolve({
        id,
        error: { kind: 'other', message: 'gateway is shutting down', code: 'GW_ERR_DRAINING' },
      });
    }
    await this.#options.subscriber.quit().catch(() => this.#options.subscriber.disconnect());
  }
}

/**
 * Pub/Sub messages are read defensively: anything with access to Redis can publish on these
 * channels, and a `null` or a wrong shape must not throw inside the subscriber's handler.
 */
function parseJsonObject(message: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(message);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function parseForwardedCall(message: string): ForwardedCall | undefined {
  const value = parseJsonObject(message);
  if (!value) return undefined;
  const { id, replyTo, userId, method, params, timeoutMs } = value;
  const isValid =
    typeof id === 'string' &&
    typeof replyTo === 'string' &&
    typeof userId === 'string' &&
    typeof method === 'string' &&
    Array.isArray(params) &&
    typeof timeoutMs === 'number' &&
    timeoutMs > 0;
  return isValid ? (value as unknown as ForwardedCall) : undefined;
}

async function raceDeadline<T>(promise: Promise<T>, deadline: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function serializeError(err: unknown): SerializedError {
  if (err instanceof DdpRemoteError) {
    return {
      kind: 'remote',
      message: err.message,
      remote: { error: err.error, ...(err.reason ? { reason: err.reason } : {}), details: err.details },
    };
  }
  if (err instanceof DdpTimeoutError) return { kind: 'timeout', message: err.message };
  if (err instanceof DdpDisconnectedError)
    return { kind: 'disconnected', message: err.message, mayHaveRun: err.mayHaveRun };
  const code = (err as { code?: unknown }).code;
  return {
    kind: 'other',
    message: (err as Error).message ?? String(err),
    ...(typeof code === 'string' ? { code } : {}),
  };
}

function deserializeError(error: SerializedError): Error {
  switch (error.kind) {
    case 'remote':
      return new DdpRemoteError(error.remote ?? { error: 500 }, error.message.replace(/:.*$/, ''));
    case 'timeout':
      return new DdpTimeoutError('forwarded call', 0);
    case 'disconnected':
      return new DdpDisconnectedError('forwarded call', error.mayHaveRun ?? true);
    default:
      return error.code?.startsWith('GW_ERR_')
        ? createError(error.code as Parameters<typeof createError>[0], error.message)
        : new DdpError(error.code ?? 'DDP_ERR_FORWARDED', error.message);
  }
}
