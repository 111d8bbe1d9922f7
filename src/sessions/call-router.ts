/**
 * Runs work on a user's upstream session wherever that session lives: locally, on another
 * worker (sent over the control plane and awaited), or nowhere yet (then this process's worker
 * claims it, or, on an api-only replica, a worker is woken and awaited).
 *
 * A change of owner is never an error by itself. A caller waits, up to its own deadline, for
 * whoever holds the session next: an owner that is gone (its presence vanished, see
 * worker-presence.ts) is taken over at once, and a restart or a `kill -9` costs the caller a
 * moment, not a 503. Only work the old owner had taken (acknowledged) and may have run is
 * reported as such, since a method call cannot be assumed safe to run twice.
 *
 * Invariant 1: every caller shares the one session; nobody opens a second one to call faster.
 */
import { randomUUID } from 'node:crypto';
import { type Clock, delay, systemClock, type TimerHandle } from '../clock.js';
import { DdpDisconnectedError, DdpError, DdpRemoteError, DdpTimeoutError } from '../ddp/index.js';
import { createError } from '../errors.js';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import type { ConsumerRegistry } from './consumer-registry.js';
import {
  ControlPublisher,
  type OutboundNotice,
  parseControlMessage,
  type Reply,
  type SerializedError,
  type SessionWork,
  type WorkerRequest,
} from './control-plane.js';
import type { SessionLeases } from './lease.js';
import type { SessionPool } from './session-pool.js';
import type { StreamRefusal, UserSession } from './user-session.js';
import type { WorkerPresence } from './worker-presence.js';

/** How the wait for a forwarded request ended, other than with the owner's reply. */
type ForwardOutcome =
  | { readonly kind: 'reply'; readonly reply: Reply }
  /** The target never took the request (gone, or not the owner any more): send it elsewhere. */
  | { readonly kind: 'moved' }
  /** The target took the request and then went away: it may have run. */
  | { readonly kind: 'lost-after-ack' }
  | { readonly kind: 'timeout'; readonly waitedMs: number };

interface Waiter {
  isAcked: boolean;
  readonly settle: (outcome: ForwardOutcome) => void;
}

/** How often a forwarded request checks that its target still holds the session and is there. */
const OWNER_WATCH_MS = 250;
/** Pause between looks at who holds a session while waiting for one. */
const OWNER_POLL_MS = 50;

export interface CallRouterOptions {
  readonly redis: RedisClient;
  /** Dedicated Pub/Sub connection; the router owns it. */
  readonly subscriber: RedisClient;
  readonly keys: GatewayKeys;
  readonly leases: SessionLeases;
  readonly presence: WorkerPresence;
  readonly consumers: ConsumerRegistry;
  /** This process's worker pool; absent on api-only replicas. */
  readonly pool?: SessionPool;
  readonly processId: string;
  /**
   * The longest a request forwarded to the owning worker waits for its answer (`FORWARD_TIMEOUT_MS`);
   * the caller's own deadline when that comes first. Either way an unanswered request fails as
   * `GW_ERR_FORWARD_TIMEOUT`. @defaultValue the caller's deadline
   */
  readonly forwardTimeoutMs?: number;
  /** Deadlines, the owner watch and the pauses between looks. @defaultValue systemClock */
  readonly clock?: Clock;
  /** Counts requests sent to other workers, by outcome. */
  readonly onForwarded?: (outcome: 'ok' | 'error' | 'moved' | 'timeout') => void;
}

/** Hears `outbound` notices sent to this worker (see src/outbound/outbox.ts). */
export type OutboundListener = (notice: OutboundNotice) => void;

export class CallRouter {
  readonly #options: CallRouterOptions;
  readonly #control: ControlPublisher;
  readonly #waiting = new Map<string, Waiter>();
  readonly #clock: Clock;
  #isClosed = false;
  #outboundListener: OutboundListener | undefined;

  constructor(options: CallRouterOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#control = new ControlPublisher(options.redis, options.keys);
  }

  async start(): Promise<void> {
    const { subscriber, keys, pool, processId } = this.#options;
    const replyChannel = keys.replyChannel(processId);
    // The worker's control channel is also its presence: subscribed for as long as it lives.
    const workerChannel = pool ? keys.workerRpcChannel(pool.workerId) : undefined;
    subscriber.on('message', (channel: string, raw: string) => {
      if (channel !== replyChannel && channel !== workerChannel) return;
      const message = parseControlMessage(raw);
      if (!message) return;
      if (channel === replyChannel && (message.kind === 'ack' || message.kind === 'reply'))
        this.#onResponse(message);
      else if (channel === workerChannel && (message.kind === 'call' || message.kind === 'ensure-topics'))
        void this.#onRequest(message);
      else if (channel === workerChannel && message.kind === 'outbound') this.#outboundListener?.(message);
    });
    await subscriber.subscribe(replyChannel, ...(workerChannel ? [workerChannel] : []));
  }

  /** The worker's outbox: it hears the `outbound` notices that arrive on this worker's channel. */
  setOutboundListener(listener: OutboundListener | undefined): void {
    this.#outboundListener = listener;
  }

  /**
   * Calls `method` as the user. Errors are DDP errors (remote ones keep Rocket.Chat's code), or a
   * `GatewayError`: `GW_ERR_FORWARD_TIMEOUT` when the worker holding the session did not answer a
   * forwarded call in time (it may have run), and the session refusals of `OwnerWait`.
   */
  call(userId: string, method: string, params: readonly unknown[], timeoutMs: number): Promise<unknown> {
    return this.#run(userId, { kind: 'call', method, params }, timeoutMs);
  }

  /**
   * Adds topics to the user's session and waits until their streams are subscribed; resolves
   * with the streams Rocket.Chat refused. Safe to repeat, so it survives any change of owner.
   */
  ensureTopics(userId: string, topics: readonly string[], timeoutMs: number): Promise<StreamRefusal[]> {
    return this.#run(userId, { kind: 'ensure-topics', topics }, timeoutMs) as Promise<StreamRefusal[]>;
  }

  async #run(userId: string, work: SessionWork, timeoutMs: number): Promise<unknown> {
    const clock = this.#clock;
    const deadline = clock.now() + timeoutMs;
    const waiting = new OwnerWait(this.#options, clock, userId, deadline);
    for (;;) {
      if (this.#isClosed) throw createError('GW_ERR_DRAINING', 'gateway is shutting down');
      const local = this.#options.pool?.session(userId);
      if (local) {
        try {
          return await runOn(local, work, deadline, clock);
        } catch (err) {
          // The session closed under the work (taken over, logged out): subscribing again on
          // its successor is harmless, a method call may have run.
          const isSessionGone = this.#options.pool?.session(userId) !== local;
          if (work.kind === 'ensure-topics' && isSessionGone && clock.now() < deadline) continue;
          throw err;
        }
      }
      const owner = await waiting.next();
      if (owner === 'local') continue;
      const outcome = await this.#forward(owner, userId, work, deadline);
      this.#options.onForwarded?.(forwardedMetricOutcome(outcome));
      switch (outcome.kind) {
        case 'reply':
          if (outcome.reply.error?.kind === 'not-owner') {
            waiting.avoid(owner);
            continue;
          }
          if (outcome.reply.error) throw deserializeError(outcome.reply.error);
          return outcome.reply.result;
        case 'moved':
          waiting.avoid(owner);
          continue;
        case 'lost-after-ack':
          // Subscribing again is harmless; a method call may not be.
          if (work.kind === 'ensure-topics') {
            waiting.avoid(owner);
            continue;
          }
          throw new DdpDisconnectedError(`worker ${owner} went away`, true);
        case 'timeout': {
          const what = work.kind === 'call' ? work.method : 'ensure-topics';
          throw createError(
            'GW_ERR_FORWARD_TIMEOUT',
            `worker ${owner} did not answer ${what} within ${outcome.waitedMs} ms`,
            { cause: new DdpTimeoutError(what, outcome.waitedMs) },
          );
        }
      }
    }
  }

  async #forward(
    workerId: string,
    userId: string,
    work: SessionWork,
    deadline: number,
  ): Promise<ForwardOutcome> {
    const id = randomUUID();
    const clock = this.#clock;
    const timeoutMs = Math.max(
      1,
      Math.min(deadline - clock.now(), this.#options.forwardTimeoutMs ?? Number.POSITIVE_INFINITY),
    );
    let waiter!: Waiter;
    let timer: TimerHandle | undefined;
    let watch: TimerHandle | undefined;
    const outcome = new Promise<ForwardOutcome>((resolve) => {
      waiter = {
        isAcked: false,
        settle: (result) => {
          clock.clearTimeout(timer);
          clock.clearInterval(watch);
          this.#waiting.delete(id);
          resolve(result);
        },
      };
    });
    this.#waiting.set(id, waiter);
    timer = clock.setTimeout(() => waiter.settle({ kind: 'timeout', waitedMs: timeoutMs }), timeoutMs);
    const request = { ...work, id, replyTo: this.#options.processId, userId, timeoutMs } as WorkerRequest;
    const receivers = await this.#control.toWorker(workerId, request).catch(() => 0);
    // On a standalone Redis, 0 receivers means nobody took it: the owner is gone. A Cluster
    // counts only the subscribers of the node we published on: there the watch below decides.
    if (receivers === 0 && !this.#options.redis.isCluster) {
      waiter.settle({ kind: 'moved' });
      return outcome;
    }
    const { leases, presence } = this.#options;
    watch = clock.setInterval(() => {
      Promise.all([leases.owner(userId), presence.isGone(workerId)])
        .then(([owner, isGone]) => {
          if ((owner === workerId && !isGone) || !this.#waiting.has(id)) return;
          waiter.settle(waiter.isAcked ? { kind: 'lost-after-ack' } : { kind: 'moved' });
        })
        .catch(() => {});
    }, OWNER_WATCH_MS);
    return outcome;
  }

  #onResponse(message: Extract<ReturnType<typeof parseControlMessage>, { kind: 'ack' | 'reply' }>): void {
    const waiter = this.#waiting.get(message.id);
    if (!waiter) return;
    if (message.kind === 'ack') waiter.isAcked = true;
    else waiter.settle({ kind: 'reply', reply: message });
  }

  async #onRequest(request: WorkerRequest): Promise<void> {
    const session = this.#options.pool?.session(request.userId);
    if (!session) {
      await this.#reply(request, { error: { kind: 'not-owner', message: 'not the owner' } });
      return;
    }
    // Tells the caller the request was taken, before it runs (same connection: it arrives first).
    void this.#control.toCaller(request.replyTo, { kind: 'ack', id: request.id }).catch(() => {});
    try {
      const result = await runOn(session, request, this.#clock.now() + request.timeoutMs, this.#clock);
      await this.#reply(request, { result });
    } catch (err) {
      await this.#reply(request, { error: serializeError(err) });
    }
  }

  async #reply(request: WorkerRequest, answer: { result?: unknown; error?: SerializedError }): Promise<void> {
    await this.#control
      .toCaller(request.replyTo, { kind: 'reply', id: request.id, ...answer })
      .catch(() => {});
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    for (const waiter of [...this.#waiting.values()]) {
      waiter.settle({
        kind: 'reply',
        reply: {
          v: 1,
          kind: 'reply',
          id: '',
          error: { kind: 'other', message: 'gateway is shutting down', code: 'GW_ERR_DRAINING' },
        },
      });
    }
    await this.#options.subscriber.quit().catch(() => this.#options.subscriber.disconnect());
  }
}

/**
 * One caller's wait for a session holder: who to send to next, claiming the session locally
 * when this process has a worker, waking the workers when it has none, until the deadline.
 */
class OwnerWait {
  readonly #options: CallRouterOptions;
  readonly #clock: Clock;
  readonly #userId: string;
  readonly #deadline: number;
  /** A worker that did not take our last request: asked about only once it is known to be there. */
  #suspect: string | undefined;
  #hasWokenWorkers = false;

  constructor(options: CallRouterOptions, clock: Clock, userId: string, deadline: number) {
    this.#options = options;
    this.#clock = clock;
    this.#userId = userId;
    this.#deadline = deadline;
  }

  avoid(workerId: string): void {
    this.#suspect = workerId;
  }

  /** The worker to send to, or 'local' once this process holds the session. */
  async next(): Promise<string | 'local'> {
    const { leases, pool, presence } = this.#options;
    for (;;) {
      const owner = await leases.owner(this.#userId);
      if (owner && owner !== pool?.workerId) {
        if (owner !== this.#suspect) return owner;
        // The holder we could not reach. Gone: take over, below. Still there: it is between
        // sessions (closing one, about to release its lease); look again in a moment rather
        // than sending to it in a tight loop.
        if (!(await presence.isGone(owner))) {
          this.#suspect = undefined;
          await delay(this.#clock, OWNER_POLL_MS);
          continue;
        }
      }
      if (pool) {
        // A session that cannot reach Rocket.Chat keeps trying in the background; the caller
        // waits only until its own deadline. The pool takes over a holder that is gone.
        const session = await raceDeadline(pool.ensureSession(this.#userId), this.#deadline, this.#clock);
        if (session) return 'local';
        this.#throwIfRefusedForGood(pool.refusalOf(this.#userId));
      } else if (!this.#hasWokenWorkers) {
        // An api-only replica: a short-lived consumer makes the user wanted and wakes the
        // workers, which claim a free session or take over one whose holder is gone.
        this.#hasWokenWorkers = true;
        await this.#options.consumers.register(this.#userId, `call:${randomUUID()}`, [], {
          ttlMs: Math.max(1000, this.#deadline - this.#clock.now()),
        });
      }
      if (this.#clock.now() >= this.#deadline) {
        if (pool?.refusalOf(this.#userId) === 'capacity')
          throw createError('GW_ERR_SESSION_CAPACITY', 'every worker is at WORKER_MAX_SESSIONS');
        throw createError(
          'GW_ERR_UPSTREAM_UNAVAILABLE',
          'no worker could hold a session for this user in time',
        );
      }
      await delay(this.#clock, OWNER_POLL_MS);
    }
  }

  /** Credentials that do not work will not start working by waiting: say so at once. */
  #throwIfRefusedForGood(refusal: ReturnType<SessionPool['refusalOf']>): void {
    if (refusal === 'credentials-invalid')
      throw createError(
        'GW_ERR_CREDENTIALS_INVALID',
        'the Rocket.Chat token stopped working: POST /v1/sessions again',
      );
    if (refusal === 'no-credentials')
      throw createError(
        'GW_ERR_NO_CREDENTIALS',
        'no Rocket.Chat credentials registered: POST /v1/sessions first',
      );
  }
}

function forwardedMetricOutcome(outcome: ForwardOutcome): 'ok' | 'error' | 'moved' | 'timeout' {
  switch (outcome.kind) {
    case 'reply':
      if (outcome.reply.error?.kind === 'not-owner') return 'moved';
      return outcome.reply.error ? 'error' : 'ok';
    case 'lost-after-ack':
      return 'error';
    default:
      return outcome.kind;
  }
}

async function runOn(
  session: UserSession,
  work: SessionWork,
  deadline: number,
  clock: Clock,
): Promise<unknown> {
  const remainingMs = Math.max(1, deadline - clock.now());
  if (work.kind === 'call') return session.call(work.method, work.params, remainingMs);
  const refusals = await raceDeadline(session.ensureTopics(work.topics), deadline, clock);
  if (refusals === undefined) throw new DdpTimeoutError('ensure-topics', remainingMs);
  return refusals;
}

async function raceDeadline<T>(promise: Promise<T>, deadline: number, clock: Clock): Promise<T | undefined> {
  let timer: TimerHandle | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = clock.setTimeout(() => resolve(undefined), Math.max(0, deadline - clock.now()));
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clock.clearTimeout(timer);
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
  const code = (err as { code?: unknown } | null)?.code;
  return {
    kind: 'other',
    message: (err as Error | null)?.message ?? String(err),
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
