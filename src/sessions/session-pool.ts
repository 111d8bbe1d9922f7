/**
 * The sessions one worker holds. A reconcile loop (and control-plane notices for speed) keeps
 * them equal to what Redis says is wanted: it renews this worker's leases, claims wanted users
 * that nobody holds (a new consumer, or a lease that expired), applies topic changes, and closes
 * sessions nobody needs. A presence watch takes over the users of a worker that is gone the
 * moment Redis notices (see worker-presence.ts), without waiting out its leases. At most one
 * session per user per worker, at most `maxSessions` per worker; refusals are counted with
 * their reason.
 */

import { type Clock, systemClock, type TimerHandle } from '../clock.js';
import { sharedFrameDecoder } from '../ddp/shared-frame-decoder.js';
import type { EventLog } from '../events/event-log.js';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import type { RocketChatRestClient } from '../rocketchat/rest-client.js';
import type { ConsumerRegistry } from './consumer-registry.js';
import { parseControlMessage } from './control-plane.js';
import type { CredentialStore } from './credential-store.js';
import type { Lease, SessionLeases } from './lease.js';
import {
  type LoggedEvent,
  UserSession,
  type UserSessionOptions,
  type UserSessionState,
} from './user-session.js';
import type { WorkerPresence } from './worker-presence.js';

/** Every how many passes of the loop the topics of every local session are read again. */
const TOPIC_REFRESH_PASSES = 5;

/** How often the workers holding sessions this worker could take over are checked for presence. */
const PRESENCE_WATCH_MS = 200;

interface LocalSession {
  readonly session: UserSession;
  readonly leaseGeneration: number;
}

export type SessionRefusalReason = 'capacity' | 'no-credentials' | 'credentials-invalid';

/**
 * What else in the worker lives and dies with its sessions (the outbox): told when a session is
 * running and when it is gone, and asked whether a session with no listeners still has work.
 */
export interface SessionObserver {
  started(userId: string, session: UserSession): void;
  stopped(userId: string, session: UserSession): void;
  isBusy(userId: string): boolean;
}

export interface SessionPoolOptions {
  readonly redis: RedisClient;
  /** A dedicated connection for Pub/Sub nudges; the pool owns it. */
  readonly subscriber: RedisClient;
  readonly keys: GatewayKeys;
  readonly leases: SessionLeases;
  readonly presence: WorkerPresence;
  readonly consumers: ConsumerRegistry;
  readonly credentials: CredentialStore;
  readonly eventLog: EventLog;
  readonly rest: RocketChatRestClient;
  readonly ddpUrl: string;
  readonly maxSessions: number;
  readonly lingerMs: number;
  /** A session with no consumers for this long is closed and its lease released. */
  readonly idleMs: number;
  /** @defaultValue a third of the lease TTL */
  readonly reconcileIntervalMs?: number;
  readonly ddp?: UserSessionOptions['ddp'];
  /** The reconcile loop, the presence watch and its sessions' time. @defaultValue systemClock */
  readonly clock?: Clock;
  readonly onRefused?: (userId: string, reason: SessionRefusalReason) => void;
  readonly onError?: (error: unknown, context: string) => void;
  readonly onLogged?: (event: LoggedEvent, lagMs: number) => void;
  /** A stream frame the normalizer could not turn into an event, with why. */
  readonly onSkipped?: UserSessionOptions['onSkipped'];
  readonly onSessionState?: (userId: string, state: UserSessionState) => void;
}

export class SessionPool {
  readonly #sessions = new Map<string, LocalSession>();
  /** Wanted users held by another worker, and by which lease: watched for their holder's presence. */
  readonly #foreignLeases = new Map<string, Lease>();
  #presenceTimer: TimerHandle | undefined;
  #isWatchingPresence = false;
  readonly #starting = new Map<string, Promise<UserSession | undefined>>();
  /** Users whose topics are being read after a notice; `isDue`: read again, a notice came since. */
  readonly #topicReads = new Map<string, { isDue: boolean }>();
  /** Why the last attempt to hold a user's session here failed, until one succeeds. */
  readonly #refusals = new Map<string, SessionRefusalReason>();
  readonly #options: SessionPoolOptions;
  readonly #clock: Clock;
  /** The sessions' DDP options, with one frame decoder for all: members of a room share its frames. */
  readonly #ddp: NonNullable<UserSessionOptions['ddp']>;
  #timer: TimerHandle | undefined;
  #reconciling: Promise<void> | undefined;
  #isReconcilingFull = false;
  /** Loop passes so far: every TOPIC_REFRESH_PASSES-th is a full one. */
  #passes = 0;
  /** The control channel reconnected: the next pass must be full. */
  #isFullPassDue = false;
  #closing: Promise<void> | undefined;
  #observer: SessionObserver | undefined;

  constructor(options: SessionPoolOptions) {
    if (!(options.maxSessions >= 1)) throw new RangeError('maxSessions must be at least 1');
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#ddp = { decodeFrame: sharedFrameDecoder(), ...options.ddp };
  }

  get size(): number {
    return this.#sessions.size;
  }

  get workerId(): string {
    return this.#options.leases.workerId;
  }

  session(userId: string): UserSession | undefined {
    return this.#sessions.get(userId)?.session;
  }

  /**
   * Set once, by the part of the worker that shares the sessions' lives (the outbox). It is
   * told at once of the sessions already running.
   */
  setObserver(observer: SessionObserver | undefined): void {
    this.#observer = observer;
    for (const [userId, { session }] of this.#sessions)
      if (session.state === 'live' || session.state === 'catching-up' || session.state === 'reconnecting')
        observer?.started(userId, session);
  }

  /** Why this worker could not hold the user's session on its last try, if it could not. */
  refusalOf(userId: string): SessionRefusalReason | undefined {
    return this.#refusals.get(userId);
  }

  async start(): Promise<void> {
    const { subscriber, keys } = this.#options;
    subscriber.on('message', (channel: string, raw: string) => {
      const message = channel === keys.wantedChannel ? parseControlMessage(raw) : undefined;
      if (message?.kind === 'wanted')
        void this.ensureSession(message.userId).catch((e) => this.#error(e, 'claim'));
    });
    // A user's consumers or credentials changed (a webhook created, an SSE client gone, new
    // credentials posted): apply it now rather than on the next pass of the loop, so a new
    // webhook hears events from the moment it is created, give or take a round trip.
    subscriber.on('pmessage', (_pattern: string, channel: string, raw: string) => {
      const message = parseControlMessage(raw);
      const isNotice = message?.kind === 'credentials-changed' || message?.kind === 'consumers-changed';
      // The channel names the user: a notice cannot speak for someone else's session.
      if (!isNotice || keys.userIdOfControlChannel(channel) !== message.userId) return;
      // A new consumer whose topics the session has already (another stream of the same room
      // opened): nothing to read or change.
      if (message.kind === 'consumers-changed' && this.#hasTopics(message.userId, message.addedTopics))
        return;
      void this.#onControlNotice(message.userId, message.kind).catch((e) => this.#error(e, 'control notice'));
    });
    await subscriber.subscribe(keys.wantedChannel);
    await subscriber.psubscribe(keys.userControlPattern);
    const interval =
      this.#options.reconcileIntervalMs ?? Math.max(100, Math.floor(this.#options.leases.ttlMs / 3));
    this.#timer = this.#clock.setInterval(() => {
      // Topic changes arrive as control notices at once; re-reading every session's topics is
      // the safety net for notices lost (Pub/Sub drops them while its connection is down) and
      // for consumers that expired silently (a dead replica's SSE clients, 30 s). It costs
      // three commands per session, so it runs on every TOPIC_REFRESH_PASSES-th pass only.
      const isFull = ++this.#passes % TOPIC_REFRESH_PASSES === 0 || this.#isFullPassDue;
      void this.reconcile({ isFull });
    }, interval);
    this.#timer.unref();
    this.#presenceTimer = this.#clock.setInterval(() => void this.#watchPresence(), PRESENCE_WATCH_MS);
    this.#presenceTimer.unref();
    // The control channel was down: notices may be lost, re-read everything on the next pass.
    subscriber.on('ready', () => {
      this.#isFullPassDue = true;
    });
    await this.reconcile();
  }

  /**
   * One pass of the loop. A full pass (the default) also re-reads every local session's topics
   * from Redis. Concurrent calls share the pass in progress, unless it is a light one and a full
   * one is asked for: that one runs after it.
   */
  reconcile(options: { readonly isFull?: boolean } = {}): Promise<void> {
    const isFull = options.isFull ?? true;
    if (this.#reconciling && (!isFull || this.#isReconcilingFull)) return this.#reconciling;
    if (isFull) this.#isFullPassDue = false;
    const pass: Promise<void> = (this.#reconciling ?? Promise.resolve())
      .then(() => this.#reconcileOnce(isFull))
      .catch((err) => this.#error(err, 'reconcile'))
      .finally(() => {
        if (this.#reconciling === pass) this.#reconciling = undefined;
      });
    this.#reconciling = pass;
    this.#isReconcilingFull = isFull;
    return pass;
  }

  /**
   * Makes sure this worker holds the user's session if nobody else does. Resolves with the
   * local session, or undefined when another worker holds it or it cannot start (the reason
   * is reported through `onRefused`).
   */
  ensureSession(userId: string): Promise<UserSession | undefined> {
    const existing = this.#sessions.get(userId);
    if (existing) return Promise.resolve(existing.session);
    if (this.#closing) return Promise.resolve(undefined);
    let starting = this.#starting.get(userId);
    if (!starting) {
      starting = this.#claimAndStart(userId).finally(() => this.#starting.delete(userId));
      this.#starting.set(userId, starting);
    }
    return starting;
  }

  async #onControlNotice(userId: string, kind: 'credentials-changed' | 'consumers-changed'): Promise<void> {
    if (this.#closing) return;
    const local = this.#sessions.get(userId);
    if (kind === 'consumers-changed') {
      if (local) await this.#readTopicsAgain(userId);
      return;
    }
    // The credential was removed (logout) or found invalid: a session must not go on as the
    // user. A new valid one (another login) leaves a working session alone: its token still
    // works, and should it stop working, the session ends and the next one uses the new token.
    if (local) {
      // A status read Redis could not answer is no reason to end a working session.
      const status = await this.#options.credentials.status(userId).catch(() => 'valid' as const);
      if (status === 'valid') return;
      await this.#stopLocal(userId, true);
    }
    this.#refusals.delete(userId);
    if ((await this.#options.consumers.wantedTopics(userId)).length > 0) await this.ensureSession(userId);
  }

  /**
   * Whether the user's local session has every one of `topics` already (false without either).
   * Never while a read of the user's topics is on its way: what it applies was read before this
   * consumer was registered, and would drop its topics; the read after it must see them.
   */
  #hasTopics(userId: string, topics: readonly string[] | undefined): boolean {
    if (this.#topicReads.has(userId)) return false;
    const session = this.#sessions.get(userId)?.session;
    return session !== undefined && topics !== undefined && session.hasTopics(topics);
  }

  /**
   * Applies the user's topics as Redis has them now. Notices that come while a read is on its way
   * share one more read after it, which sees every consumer registered before they were sent: a
   * client opening many streams at once (each one a notice, each read covering all of the user's
   * consumers) costs a few reads, not one per stream, and no garbage in proportion to their square.
   */
  async #readTopicsAgain(userId: string): Promise<void> {
    const inFlight = this.#topicReads.get(userId);
    if (inFlight) {
      inFlight.isDue = true;
      return;
    }
    const read = { isDue: true };
    this.#topicReads.set(userId, read);
    try {
      while (read.isDue && !this.#closing) {
        read.isDue = false;
        const topics = await this.#options.consumers.wantedTopics(userId);
        await this.#sessions.get(userId)?.session.setTopics(topics);
      }
    } finally {
      this.#topicReads.delete(userId);
    }
  }

  /**
   * Takes over, at once, the users whose holder is gone. Only holders this worker has met are
   * watched (it tried to claim their users): one round trip for all of them.
   */
  async #watchPresence(): Promise<void> {
    if (this.#isWatchingPresence || this.#foreignLeases.size === 0 || this.#closing) return;
    this.#isWatchingPresence = true;
    try {
      const holders = new Set([...this.#foreignLeases.values()].map((lease) => lease.workerId));
      const gone = await this.#options.presence.goneAmong([...holders]);
      if (gone.size === 0) return;
      const orphans = [...this.#foreignLeases].filter(([, lease]) => gone.has(lease.workerId));
      await Promise.all(
        orphans.map(([userId]) => this.ensureSession(userId).catch((e) => this.#error(e, 'take over'))),
      );
    } catch (err) {
      this.#error(err, 'presence watch');
    } finally {
      this.#isWatchingPresence = false;
    }
  }

  async #reconcileOnce(isFull: boolean): Promise<void> {
    const { leases, consumers } = this.#options;
    const held = new Map([...this.#sessions].map(([userId, local]) => [userId, local.leaseGeneration]));
    const lost = await leases.renew(held);
    for (const userId of lost) await this.#stopLocal(userId, false);
    const wanted = new Set(await consumers.wantedUsers());
    for (const userId of this.#foreignLeases.keys())
      if (!wanted.has(userId)) this.#foreignLeases.delete(userId);
    for (const userId of wanted) {
      if (this.#sessions.has(userId) || (await this.#isHeldElsewhere(userId))) continue;
      await this.ensureSession(userId);
    }
    const now = this.#clock.now();
    for (const [userId, { session }] of this.#sessions) {
      // A user nobody wants any more needs no read to know its topics: none.
      if (!wanted.has(userId)) await session.setTopics([]);
      else if (isFull) await session.setTopics(await consumers.wantedTopics(userId));
      const idle =
        session.topics.length === 0 &&
        now - session.lastActivityMs >= this.#options.idleMs &&
        !this.#observer?.isBusy(userId);
      if (session.state === 'unauthorized' || idle) await this.#stopLocal(userId, true);
    }
  }

  async #claimAndStart(userId: string): Promise<UserSession | undefined> {
    const { credentials, consumers } = this.#options;
    const credential = await credentials.load(userId);
    if (!credential) return this.#refuse(userId, 'no-credentials');
    if (credential.status !== 'valid') return this.#refuse(userId, 'credentials-invalid');
    if (this.#sessions.size >= this.#options.maxSessions) return this.#refuse(userId, 'capacity');
    const leaseGeneration = await this.#claim(userId);
    if (leaseGeneration === undefined) return undefined;
    const session = new UserSession({
      userId,
      token: credential.token.reveal(),
      ddpUrl: this.#options.ddpUrl,
      eventLog: this.#options.eventLog,
      rest: this.#options.rest,
      lingerMs: this.#options.lingerMs,
      leaseGeneration,
      ddp: this.#ddp,
      clock: this.#clock,
      onUnauthorized: (reason) => void this.#onUnauthorized(userId, reason, credential.revision),
      onFenced: () => {
        this.#error(new Error('session fenced: a newer lease holds this user'), 'fenced');
        if (this.#sessions.get(userId)?.session === session) void this.#stopLocal(userId, false);
      },
      onStateChange: (state) => this.#options.onSessionState?.(userId, state),
      onError: (error, context) => this.#error(error, context),
      ...(this.#options.onLogged ? { onLogged: this.#options.onLogged } : {}),
      ...(this.#options.onSkipped ? { onSkipped: this.#options.onSkipped } : {}),
    });
    this.#sessions.set(userId, { session, leaseGeneration });
    try {
      await session.start(await consumers.wantedTopics(userId));
      this.#refusals.delete(userId);
      if (this.#sessions.get(userId)?.session === session) this.#observer?.started(userId, session);
      return session;
    } catch (err) {
      // Unauthorized sessions are cleaned up by their own handler; anything else frees the lease
      // so another worker (or this one, next pass) can try again.
      if (session.state !== 'unauthorized') {
        this.#error(err, 'session start');
        await this.#stopLocal(userId, true);
      }
      return undefined;
    }
  }

  /**
   * One GET instead of a claim attempt (credential read and decrypt, claim script, presence
   * check) for each user another worker holds, on every pass. The holder is recorded, so the
   * presence watch takes its users over the moment it is gone; a lease that lapsed (a paused
   * holder) reads as free and is claimed.
   */
  async #isHeldElsewhere(userId: string): Promise<boolean> {
    const holder = await this.#options.leases.holder(userId);
    if (!holder || holder.workerId === this.workerId) return false;
    this.#foreignLeases.set(userId, holder);
    return true;
  }

  /**
   * The lease's generation if this worker got it: free, or left by a holder that is gone (taken
   * over at once, by compare-and-swap on that exact lease). Undefined when someone present holds
   * it; that holder is then watched, so its users are taken over the moment it goes.
   */
  async #claim(userId: string): Promise<number | undefined> {
    const { leases, presence } = this.#options;
    let claim = await leases.claim(userId);
    if (!claim.isGranted && claim.holder.workerId !== '' && (await presence.isGone(claim.holder.workerId)))
      claim = await leases.claim(userId, claim.holder);
    if (claim.isGranted) {
      this.#foreignLeases.delete(userId);
      return claim.lease.generation;
    }
    this.#foreignLeases.set(userId, claim.holder);
    return undefined;
  }

  async #onUnauthorized(userId: string, reason: string, revision: number): Promise<void> {
    this.#refusals.set(userId, 'credentials-invalid');
    try {
      // Only the token this session used: a new one registered meanwhile stays valid.
      await this.#options.credentials.markInvalid(userId, reason, { revision });
    } catch (err) {
      this.#error(err, 'mark credentials invalid');
    }
    await this.#stopLocal(userId, true);
  }

  #refuse(userId: string, reason: SessionRefusalReason): undefined {
    this.#refusals.set(userId, reason);
    if (this.#refusals.size > 100_000) this.#refusals.delete(this.#refusals.keys().next().value as string);
    this.#options.onRefused?.(userId, reason);
    return undefined;
  }

  async #stopLocal(userId: string, releaseLease: boolean): Promise<void> {
    const local = this.#sessions.get(userId);
    if (!local) return;
    this.#sessions.delete(userId);
    this.#observer?.stopped(userId, local.session);
    await local.session.close();
    if (releaseLease)
      await this.#options.leases
        .release(userId, local.leaseGeneration)
        .catch((e) => this.#error(e, 'release lease'));
  }

  #error(error: unknown, context: string): void {
    this.#options.onError?.(error, context);
  }

  /** Stops every session and releases their leases, so other workers take over at once. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#clock.clearInterval(this.#timer);
      this.#clock.clearInterval(this.#presenceTimer);
      await this.#reconciling;
      await Promise.allSettled([...this.#starting.values()]);
      await Promise.allSettled([...this.#sessions.keys()].map((userId) => this.#stopLocal(userId, true)));
      await this.#options.subscriber.quit().catch(() => this.#options.subscriber.disconnect());
    })();
    return this.#closing;
  }
}
