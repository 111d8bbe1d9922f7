/**
 * The worker side of outbound sending: the worker that holds a user's session sends that user's
 * jobs itself, on that session, several at a time.
 *
 * Why several at once keeps order: Meteor runs one connection's method calls one at a time, in
 * the order they arrived, unless a method calls `this.unblock()` (Rocket.Chat's `sendMessage`
 * does not), and the ddp-streamer chains them the same way (shared/docs/rocketchat-ddp.md §2,
 * §10). So the outbox writes up to `window` calls on the connection in the order the jobs were
 * accepted, and Rocket.Chat stores them in that order. What cannot be pipelined waits for the
 * room to be quiet: a send through REST (another connection) and a job an earlier owner may
 * already have sent (looked up first).
 *
 * Jobs arrive as `outbound` notices from the accepting process (no Redis read on the way), and
 * from the user's pending set in Redis when the session starts (a takeover, a restart) or when a
 * notice is missing (a gap in the user's sequence numbers: another replica's notice still on
 * its way, or one sent to the previous owner).
 *
 * Ordering guarantee and its holes: a job is only put on the wire once every job before it in
 * its room is on the wire or final, and Rocket.Chat runs them in that order. What it stores is
 * in that order unless a job is refused for a reason worth another attempt while later ones of
 * its room are already on the wire: `too-many-requests` whose window resets in the microseconds
 * between job k and k+1 (after the first such refusal the session sends one call at a time, so
 * at most once per session, and only for users Rocket.Chat rate-limits, not bots), or another
 * refusal worth retrying (an internal error of Rocket.Chat). A dropped connection or a timed-out
 * call does not reorder: Rocket.Chat runs what it received in order (a timed-out original runs
 * before the successors queued behind it, its resend then finds the `_id` taken), and what it
 * ran before a drop is found by lookup while the rest is sent again in order.
 */
import { type Clock, delay, systemClock } from '../clock.js';
import type { Logger } from '../log/index.js';
import type { Metrics } from '../metrics/index.js';
import { mapUpstreamError } from '../rocketchat/errors.js';
import type { OutboundListener } from '../sessions/call-router.js';
import type { ConsumerRegistry } from '../sessions/consumer-registry.js';
import type { OutboundNotice } from '../sessions/control-plane.js';
import type { SessionObserver, SessionPool } from '../sessions/session-pool.js';
import type { UserSession } from '../sessions/user-session.js';
import { outboundBackoffMs } from './backoff.js';
import { parseJobData } from './job-data.js';
import { type AttemptResult, type JobRunner, outcomeOf } from './job-runner.js';
import type { OutboxStore, PendingJob } from './outbox-store.js';
import { type FinishedJob, failedOutcome, type OutcomeRecorder } from './outcome-recorder.js';

export interface OutboxOptions {
  readonly store: OutboxStore;
  readonly runner: JobRunner;
  readonly recorder: OutcomeRecorder;
  readonly pool: Pick<SessionPool, 'ensureSession' | 'setObserver'>;
  readonly consumers: Pick<ConsumerRegistry, 'wantedTopics'>;
  /** Calls in flight per session. @defaultValue 16 */
  readonly window?: number;
  /** Attempts before a job is reported failed. */
  readonly maxAttempts: number;
  /** A job whose attempts leave no trace upstream this many times is failed. @defaultValue 3 */
  readonly maxSilentAttempts?: number;
  /** Longest pause between retries of an upstream outage. @defaultValue 60000 */
  readonly maxBackoffMs?: number;
  /** One DDP call. @defaultValue 15000 */
  readonly callTimeoutMs?: number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly clock?: Clock;
}

/** Jobs read from the pending set per round trip. */
const PAGE = 500;
/** How long a gap in the sequence may wait for its notice before the pending set is read. */
const GAP_WAIT_MS = 25;
/** Pause before trying again after Redis failed a step. */
const REDIS_RETRY_MS = 500;

/** The outboxes of the sessions this worker holds. */
export class Outbox implements SessionObserver {
  readonly #options: OutboxOptions;
  readonly #outboxes = new Map<string, UserOutbox>();
  #isClosed = false;

  constructor(options: OutboxOptions) {
    this.#options = options;
  }

  /** Starts hearing the pool's sessions and the notices sent to this worker. */
  attach(calls: { setOutboundListener(listener: OutboundListener | undefined): void }): void {
    this.#options.pool.setObserver(this);
    calls.setOutboundListener((notice) => this.hear(notice));
  }

  started(userId: string, session: UserSession): void {
    // Told twice of one session (a session starting while the observer was set): keep the one.
    if (this.#isClosed || this.#outboxes.get(userId)?.session === session) return;
    this.#outboxes.get(userId)?.close();
    const outbox = new UserOutbox(userId, session, this.#options);
    this.#outboxes.set(userId, outbox);
    outbox.start();
  }

  stopped(userId: string, session: UserSession): void {
    const outbox = this.#outboxes.get(userId);
    if (outbox?.session !== session) return;
    outbox.close();
    this.#outboxes.delete(userId);
  }

  isBusy(userId: string): boolean {
    return this.#outboxes.get(userId)?.hasWork ?? false;
  }

  /** Jobs waiting or in flight in this worker (for tests and the drain). */
  get size(): number {
    let n = 0;
    for (const outbox of this.#outboxes.values()) n += outbox.size;
    return n;
  }

  /**
   * Stops taking jobs, lets the calls in flight finish and their outcomes be recorded (up to
   * `drainMs`), then stops; what is still pending stays in Redis for the next holder.
   */
  async close(drainMs = 10_000): Promise<void> {
    this.#isClosed = true;
    for (const outbox of this.#outboxes.values()) outbox.stopTaking();
    const clock = this.#options.clock ?? systemClock;
    const deadline = clock.now() + drainMs;
    while (clock.now() < deadline && [...this.#outboxes.values()].some((outbox) => !outbox.isQuiet))
      await delay(clock, 20);
    for (const outbox of this.#outboxes.values()) outbox.close();
    this.#outboxes.clear();
  }

  /** An `outbound` notice: a job to send, or (without one) a reason to read the user's outbox. */
  hear(notice: Pick<OutboundNotice, 'userId' | 'job'>): void {
    const { userId, job } = notice;
    if (this.#isClosed) return;
    const outbox = this.#outboxes.get(userId);
    if (!outbox) {
      // Not held here (yet): claim it if nobody holds it; a session that starts reads its outbox.
      void this.#options.pool
        .ensureSession(userId)
        .catch((err: unknown) => this.#options.logger?.warn({ err, userId }, 'outbox: no session'));
      return;
    }
    if (!job) {
      outbox.sync();
      return;
    }
    const data = parseJobData(job.data, userId);
    if (data) outbox.offer({ jobId: job.id, seq: job.seq, data, mayHaveRun: false });
    else outbox.sync();
  }
}

type EntryState = 'queued' | 'sending' | 'waiting' | 'finishing';

interface Entry {
  readonly jobId: string;
  readonly seq: number;
  readonly data: PendingJob['data'];
  /** An attempt may have reached Rocket.Chat: look before sending again. */
  mayHaveRun: boolean;
  state: EntryState;
  /** While `waiting`: not before this time (ms). */
  notBefore: number;
  /** Sent on its own, with nothing else of its room in flight. */
  readonly isBarrier: boolean;
}

/** One user's jobs on one session: the order, the window, retries and holds. */
class UserOutbox {
  readonly userId: string;
  readonly session: UserSession;
  readonly #options: OutboxOptions;
  readonly #clock: Clock;
  readonly #window: number;
  /** Every sequence number up to this one is known here, or final. */
  #frontier = 0;
  /** Notices ahead of the frontier, until the ones before them arrive. */
  readonly #early = new Map<number, PendingJob>();
  readonly #entries = new Map<string, Entry>();
  readonly #rooms = new Map<string, Entry[]>();
  #inFlight = 0;
  #isPaced = false;
  #heldUntil = 0;
  #isMarking = false;
  #isSyncing = false;
  #isSyncDue = false;
  #gapTimer: ReturnType<Clock['setTimeout']> | undefined;
  #wakeTimer: ReturnType<Clock['setTimeout']> | undefined;
  #wakeAt = Number.POSITIVE_INFINITY;
  readonly #finishing: FinishedJob[] = [];
  #isRecording = false;
  #isClosed = false;
  #isStopping = false;
  #hasUserTopic = false;

  constructor(userId: string, session: UserSession, options: OutboxOptions) {
    this.userId = userId;
    this.session = session;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#window = Math.max(1, options.window ?? 16);
  }

  get hasWork(): boolean {
    return this.#entries.size > 0 || this.#early.size > 0;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Nothing on the wire and nothing waiting to be recorded. */
  get isQuiet(): boolean {
    return this.#inFlight === 0 && this.#finishing.length === 0 && !this.#isRecording;
  }

  /** Sends nothing more; what is in flight still concludes. */
  stopTaking(): void {
    this.#isStopping = true;
  }

  start(): void {
    this.sync();
  }

  /** A job from a notice. */
  offer(job: PendingJob): void {
    if (this.#isClosed || job.seq <= this.#frontier) return;
    if (job.seq !== this.#frontier + 1) {
      this.#early.set(job.seq, job);
      // Another replica's notice may still be on its way: give it a moment, then read Redis.
      this.#gapTimer ??= this.#clock.setTimeout(() => {
        this.#gapTimer = undefined;
        if (this.#early.size > 0) this.sync();
      }, GAP_WAIT_MS);
      return;
    }
    this.#admit(job);
    for (let next = this.#early.get(this.#frontier + 1); next; next = this.#early.get(this.#frontier + 1)) {
      this.#early.delete(next.seq);
      this.#admit(next);
    }
    this.#dispatch();
  }

  /** Reads what is pending in Redis beyond the frontier. */
  sync(): void {
    if (this.#isClosed) return;
    if (this.#isSyncing) {
      this.#isSyncDue = true;
      return;
    }
    this.#isSyncing = true;
    void this.#readPending().finally(() => {
      this.#isSyncing = false;
      if (this.#isSyncDue) {
        this.#isSyncDue = false;
        this.sync();
      } else {
        this.#dispatch();
      }
    });
  }

  close(): void {
    this.#isClosed = true;
    if (this.#gapTimer) this.#clock.clearTimeout(this.#gapTimer);
    if (this.#wakeTimer) this.#clock.clearTimeout(this.#wakeTimer);
  }

  async #readPending(): Promise<void> {
    try {
      // The first read after a takeover must not trust the notices already admitted above an
      // older frontier: it reads from what the frontier says is known.
      for (let after = this.#frontier; ; ) {
        const { newestSeq, jobs } = await this.#options.store.pending(this.userId, after, PAGE);
        if (this.#isClosed) return;
        for (const job of jobs) {
          // At or below the frontier: admitted since the read began (and maybe finished already).
          if (job.seq > this.#frontier) this.#admit(job);
          after = job.seq;
        }
        if (jobs.length < PAGE) {
          // Everything accepted up to `newestSeq` was in the pages read, or is final.
          this.#frontier = Math.max(this.#frontier, newestSeq);
          break;
        }
      }
      for (const seq of [...this.#early.keys()]) if (seq <= this.#frontier) this.#early.delete(seq);
      for (let next = this.#early.get(this.#frontier + 1); next; next = this.#early.get(this.#frontier + 1)) {
        this.#early.delete(next.seq);
        this.#admit(next);
      }
    } catch (err) {
      this.#options.logger?.warn({ err, userId: this.userId }, 'outbox: could not read pending jobs');
      await delay(this.#clock, REDIS_RETRY_MS);
      this.#isSyncDue = true;
    }
  }

  #admit(job: PendingJob): void {
    this.#frontier = Math.max(this.#frontier, job.seq);
    if (this.#entries.has(job.jobId)) return;
    const entry: Entry = {
      jobId: job.jobId,
      seq: job.seq,
      data: job.data,
      mayHaveRun: job.mayHaveRun,
      state: 'queued',
      notBefore: 0,
      isBarrier: job.mayHaveRun || this.#options.runner.callFor(job.data) === undefined,
    };
    this.#entries.set(job.jobId, entry);
    let room = this.#rooms.get(job.data.roomId);
    if (!room) {
      room = [];
      this.#rooms.set(job.data.roomId, room);
    }
    room.push(entry);
  }

  /** Puts as many jobs on the wire as the window, the order and the holds allow. */
  #dispatch(): void {
    if (this.#isClosed || this.#isStopping || this.#isMarking || this.#entries.size === 0) return;
    const now = this.#clock.now();
    if (now < this.#heldUntil) {
      this.#wakeIn(this.#heldUntil - now);
      return;
    }
    const window = this.#isPaced ? 1 : this.#window;
    const picks: Entry[] = [];
    let soonest = Number.POSITIVE_INFINITY;
    while (this.#inFlight + picks.length < window) {
      let best: Entry | undefined;
      for (const room of this.#rooms.values()) {
        const candidate = this.#candidateOf(room, now);
        if (candidate === undefined) continue;
        if (typeof candidate === 'number') {
          soonest = Math.min(soonest, candidate);
          continue;
        }
        if (!best || candidate.seq < best.seq) best = candidate;
      }
      if (!best) break;
      best.state = 'sending';
      picks.push(best);
    }
    if (soonest !== Number.POSITIVE_INFINITY) this.#wakeIn(soonest - now);
    if (picks.length > 0) void this.#send(picks);
  }

  /**
   * The room's next job if it may go now; a time (ms) when the room waits for a retry; or
   * undefined when the room has nothing to send or must wait for its calls in flight.
   */
  #candidateOf(room: readonly Entry[], now: number): Entry | number | undefined {
    let hasInFlight = false;
    for (const entry of room) {
      if (entry.state === 'sending' || entry.state === 'finishing') {
        if (entry.isBarrier && entry.state === 'sending') return undefined;
        hasInFlight ||= entry.state === 'sending';
        continue;
      }
      if (entry.state === 'waiting')
        return hasInFlight ? undefined : entry.notBefore <= now ? entry : entry.notBefore;
      // `queued`: a barrier goes only once the room is quiet.
      return entry.isBarrier && hasInFlight ? undefined : entry;
    }
    return undefined;
  }

  async #send(picks: Entry[]): Promise<void> {
    this.#isMarking = true;
    try {
      await this.#ensureUserTopic();
      const mark = await this.#options.store.mark(
        this.userId,
        picks.map((entry) => entry.jobId),
      );
      if (this.#isClosed) return;
      if (mark.holdMs > 0) {
        // Another holder was told to wait (a takeover mid rate-limit): wait with it.
        for (const entry of picks) entry.state = 'queued';
        this.#heldUntil = this.#clock.now() + mark.holdMs;
        return;
      }
      picks.forEach((entry, i) => {
        const attempts = mark.attempts[i] ?? 0;
        if (attempts === 0) {
          // Already final (recorded by a previous holder): nothing to send.
          this.#forget(entry);
          return;
        }
        this.#inFlight++;
        // Written to the connection now, in sequence order: Rocket.Chat runs them in this order.
        void this.#attempt(entry, mark.logMarkMs).then((result) => this.#conclude(entry, result, attempts));
      });
    } catch (err) {
      for (const entry of picks) if (entry.state === 'sending') entry.state = 'queued';
      this.#options.logger?.warn({ err, userId: this.userId }, 'outbox: could not mark jobs');
      this.#wakeIn(REDIS_RETRY_MS);
    } finally {
      this.#isMarking = false;
      this.#dispatch();
    }
  }

  /** The `user` topic carries ephemeral refusals of sends: subscribed before the first send. */
  async #ensureUserTopic(): Promise<void> {
    if (this.#hasUserTopic) return;
    if (!this.session.topics.some((topic) => topic.kind === 'user'))
      await this.session.setTopics(await this.#options.consumers.wantedTopics(this.userId));
    this.#hasUserTopic = true;
  }

  #attempt(entry: Entry, logMarkMs: number): Promise<AttemptResult> {
    const { runner } = this.#options;
    const timeoutMs = this.#options.callTimeoutMs ?? 15_000;
    const call = (method: string, params: readonly unknown[]) => this.session.call(method, params, timeoutMs);
    const spec = entry.isBarrier ? undefined : runner.callFor(entry.data);
    entry.mayHaveRun = true;
    const attempt = spec
      ? // The call is issued synchronously here; only its answer is awaited.
        outcomeOf(() => call(spec.method, spec.params)).then((outcome) =>
          runner.settle(entry.data, outcome, logMarkMs),
        )
      : runner.run(entry.data, call, true, logMarkMs);
    return attempt.catch((err: unknown) => ({ kind: 'retry' as const, error: mapUpstreamError(err) }));
  }

  #conclude(entry: Entry, result: AttemptResult, attempts: number): void {
    this.#inFlight--;
    const { metrics, maxAttempts } = this.#options;
    if (this.#isClosed && result.kind !== 'sent' && result.kind !== 'failed') return;
    switch (result.kind) {
      case 'sent':
        this.#finish(entry, { status: 'sent' }, result.message);
        break;
      case 'failed':
        this.#finish(entry, failedOutcome(result.error));
        break;
      case 'rate-limited': {
        // Rocket.Chat named the wait: hold every send of this user, then one at a time.
        metrics?.outboundMessages.retried.inc();
        entry.state = 'queued';
        this.#isPaced = true;
        this.#heldUntil = Math.max(this.#heldUntil, this.#clock.now() + result.retryAfterMs);
        void this.#options.store.holdUser(this.userId, result.retryAfterMs).catch(() => {});
        break;
      }
      case 'retry': {
        const maxSilent = this.#options.maxSilentAttempts ?? 3;
        if (attempts >= maxAttempts || (result.isSilent && attempts >= maxSilent)) {
          this.#finish(entry, failedOutcome(result.error));
          break;
        }
        metrics?.outboundMessages.retried.inc();
        this.#options.logger?.debug(
          { jobId: entry.jobId, attempts, err: result.error },
          'outbound attempt will be retried',
        );
        entry.state = 'waiting';
        entry.notBefore =
          this.#clock.now() + outboundBackoffMs(attempts, this.#options.maxBackoffMs ?? 60_000);
        break;
      }
    }
    this.#dispatch();
  }

  #finish(entry: Entry, outcome: FinishedJob['outcome'], message?: unknown): void {
    entry.state = 'finishing';
    this.#finishing.push({
      jobId: entry.jobId,
      data: entry.data,
      outcome,
      ...(message === undefined ? {} : { message }),
    });
    void this.#recordFinished();
  }

  /** Records finished jobs in batches: those that finish while one batch is recorded go next. */
  async #recordFinished(): Promise<void> {
    if (this.#isRecording || this.#finishing.length === 0) return;
    this.#isRecording = true;
    const batch = this.#finishing.splice(0, this.#finishing.length);
    try {
      await this.#options.recorder.record(this.userId, batch);
      for (const job of batch) {
        const entry = this.#entries.get(job.jobId);
        if (entry) this.#forget(entry);
      }
    } catch (err) {
      // Sent but not recorded: keep it out of the way and record it again shortly.
      this.#finishing.unshift(...batch);
      this.#options.logger?.warn({ err, userId: this.userId }, 'outbox: could not record outcomes');
      await delay(this.#clock, REDIS_RETRY_MS);
    } finally {
      this.#isRecording = false;
    }
    if (!this.#isClosed || this.#finishing.length > 0) void this.#recordFinished();
    this.#dispatch();
  }

  #forget(entry: Entry): void {
    this.#entries.delete(entry.jobId);
    const room = this.#rooms.get(entry.data.roomId);
    if (room) {
      const at = room.indexOf(entry);
      if (at !== -1) room.splice(at, 1);
      if (room.length === 0) this.#rooms.delete(entry.data.roomId);
    }
  }

  /** One timer for every reason to dispatch again (a hold, a backoff, a Redis retry): the earliest. */
  #wakeIn(ms: number): void {
    if (this.#isClosed) return;
    const at = this.#clock.now() + Math.max(1, ms);
    if (this.#wakeTimer && at >= this.#wakeAt) return;
    if (this.#wakeTimer) this.#clock.clearTimeout(this.#wakeTimer);
    this.#wakeAt = at;
    this.#wakeTimer = this.#clock.setTimeout(
      () => {
        this.#wakeTimer = undefined;
        this.#wakeAt = Number.POSITIVE_INFINITY;
        this.#dispatch();
      },
      Math.max(1, ms),
    );
  }
}
