/**
 * The first attempt of a delivery, made by the dispatcher that holds the event, without BullMQ's
 * hand-over. The profile of the queued path (bench/RESULTS.md, issue 18) put the time in round
 * trips and socket writes: a job was added to the wait list, woke a worker's blocking read, was
 * moved to active by another script, then attempted. Here the dispatcher stores the job straight
 * into BullMQ's active list under a lock of its own (`direct-attempts/add-active.lua`, one script
 * per group of jobs) and runs the same processor on it at once; the outcome goes back through
 * BullMQ's own `moveToCompleted` / `moveToFailed` / `moveToDelayed`, so from then on the job is
 * an ordinary BullMQ job:
 *
 * - a retry, a park (credential invalid) or a busy endpoint moves it to BullMQ's delayed set, and
 *   the workers take it from there, with the same retry schedule and attempt count;
 * - a process killed mid-attempt leaves a job in active whose lock lapses: BullMQ's stalled check
 *   moves it back to wait and a worker delivers it again (at least once, same `webhook-id`);
 * - a re-dispatch of the same (webhook, event) finds the job id taken and adds nothing, exactly as
 *   `addBulk` would;
 * - the dispatcher moves its cursor once the group's script has run, i.e. once every job is in
 *   BullMQ, as before; the attempts themselves are not awaited.
 *
 * The script writes BullMQ's own job layout (the fields of bullmq 6.7's `storeJob` and
 * `prepareJobForProcessing`, its active list and lock key). `webhooks-direct-layout.test.ts`
 * compares it with what BullMQ itself writes, so an upgrade that changes it fails there; the
 * other tests read these jobs back through BullMQ (state, attempts, retries, stalled recovery).
 *
 * Attempts in flight are bounded per process (`concurrency`); a dispatch pass waits up to
 * `waitMs` for a free one and otherwise adds the rest to the queue the ordinary way (later passes
 * do so at once until an attempt ends: slow endpoints holding every attempt cost one wait, not one
 * per pass). Locks are extended while an attempt runs, as BullMQ's worker does for its own jobs.
 */
import { randomUUID } from 'node:crypto';
import { Job, type JobsOptions, type Queue, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { type Clock, systemClock, type TimerHandle } from '../clock.js';
import type { Logger } from '../log/index.js';
import type { RedisClient } from '../redis/connection.js';
import { LuaScript } from '../redis/lua-script.js';
import type { AttemptOutcome, DeliveryProcessor, EarlyBegin } from './delivery-processor.js';
import type { WebhookJobData } from './webhook-queue.js';

/** A delivery job as the dispatcher builds it (the shape `Queue.addBulk` takes). */
export interface PlannedJob {
  readonly name: string;
  readonly data: WebhookJobData;
  readonly opts: JobsOptions & { readonly jobId: string };
}

export interface DirectAttemptsOptions {
  /** Runs the add-active script (the hot-path, auto-pipelined connection). */
  readonly redis: RedisClient;
  /** The BullMQ worker of the webhook queue: its keys, name and retry settings (a failed attempt moves through it). */
  readonly worker: Worker<WebhookJobData>;
  /**
   * The webhook queue a job's other moves (completed, delayed, lock extensions) go through. Best
   * not on an auto-pipelined client: ioredis copies every script defined on a client (BullMQ's
   * ~65) onto each auto-pipeline it builds, and moves seldom share a tick.
   */
  readonly queue: Queue<WebhookJobData>;
  /**
   * The queue's connection is the ledger's, on one Redis: a successful attempt's move is sent
   * right behind its ledger entry, in the same write, instead of after the entry's reply. Redis
   * runs one connection's commands in order, so the move lands after the entry (except when
   * Redis has lost its script cache: the entry's script is then sent again, after the move;
   * nothing reads a completed job as a recorded attempt).
   * @defaultValue false
   */
  readonly isMoveSentWithFinish?: boolean;
  /** The delivery processor: one attempt per job, its endpoint slot asked for with the job's own write. */
  readonly processor: Pick<DeliveryProcessor, 'begin' | 'processBegun' | 'abandon'>;
  /** Attempts in flight at once in this process. */
  readonly concurrency: number;
  /** The lock held on each job while its attempt runs (extended every half of it). */
  readonly lockDurationMs: number;
  /** How long a dispatch pass waits for a free attempt before queueing the rest. @defaultValue 1000 */
  readonly waitMs?: number;
  /** @defaultValue systemClock */
  readonly clock?: Clock;
  readonly logger?: Logger;
}

// KEYS, ARGV and reply: see the header of the file.
const ADD_ACTIVE_SCRIPT = LuaScript.fromFile(import.meta.url, './direct-attempts/add-active.lua', 1);

interface Waiter {
  readonly max: number;
  readonly resolve: (taken: number) => void;
}

interface RunningAttempt {
  readonly job: Job<WebhookJobData>;
  readonly token: string;
}

export class DirectAttempts {
  readonly #o: DirectAttemptsOptions;
  readonly #clock: Clock;
  readonly #waitMs: number;
  readonly #tokenPrefix = `direct:${randomUUID()}:`;
  #tokenSeq = 0;
  #free: number;
  /** Passes waiting for free attempts, served in order. */
  readonly #waiters: Waiter[] = [];
  readonly #running = new Map<Promise<void>, RunningAttempt>();
  readonly #lockTimer: TimerHandle;
  #isClosing = false;
  #started = 0;
  /**
   * A wait timed out with every attempt taken (slow endpoints holding them): later passes queue at
   * once instead of waiting again, until an attempt ends.
   */
  #isCongested = false;

  constructor(options: DirectAttemptsOptions) {
    if (!(options.concurrency >= 1)) throw new RangeError('concurrency must be at least 1');
    if (!(options.lockDurationMs >= 100)) throw new RangeError('lockDurationMs must be at least 100');
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#waitMs = options.waitMs ?? 1000;
    this.#free = options.concurrency;
    this.#lockTimer = this.#clock.setInterval(
      () => this.#extendLocks(),
      Math.max(50, Math.floor(options.lockDurationMs / 2)),
    );
    this.#lockTimer.unref();
  }

  /** Attempts running now. */
  get inFlight(): number {
    return this.#running.size;
  }

  /** Attempts started since this process began (jobs found already stored are not counted). */
  get started(): number {
    return this.#started;
  }

  /**
   * Takes up to `max` free attempts, waiting up to `waitMs` for the first. Resolves how many were
   * taken: 0 when none freed in time, at once while the last wait found none (until one ends), or
   * when closing (the caller queues its jobs instead).
   */
  reserve(max: number): Promise<number> {
    if (this.#isClosing || max <= 0) return Promise.resolve(0);
    if (this.#free === 0 && this.#isCongested) return Promise.resolve(0);
    if (this.#free > 0) {
      const taken = Math.min(max, this.#free);
      this.#free -= taken;
      return Promise.resolve(taken);
    }
    return new Promise<number>((resolve) => {
      const waiter: Waiter = {
        max,
        resolve: (taken) => {
          this.#clock.clearTimeout(timer);
          resolve(taken);
        },
      };
      const timer = this.#clock.setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        this.#isCongested = true;
        resolve(0);
      }, this.#waitMs);
      this.#waiters.push(waiter);
    });
  }

  /**
   * Puts `jobs` (at most as many as reserved) into BullMQ's active list under this process' lock
   * and starts an attempt on each one added. Resolves once they are all in BullMQ (the
   * dispatcher's cursor may move); the attempts run on. Unused reservations are given back.
   * `pendingSinceMs`: each job is marked pending by its `begin`, ahead of the job itself (see below).
   */
  async start(jobs: readonly PlannedJob[], reserved: number, pendingSinceMs?: number): Promise<void> {
    const { worker, redis, lockDurationMs } = this.#o;
    // Each attempt's slot, record and pending mark, asked for in the same write as the jobs and
    // ahead of them (one round trip fewer before the POST; on one Redis a connection's commands
    // run in order, so a job stored is already marked); given back below for a job not added. A
    // Cluster keeps no order between its nodes: there the begins are awaited first.
    const early = jobs.map((job) => this.#o.processor.begin(job.data, job.opts.jobId, pendingSinceMs));
    if (!(redis instanceof Redis)) await this.#settleFirst(jobs, early, reserved);
    const token = `${this.#tokenPrefix}${this.#tokenSeq++}`;
    const nowMs = this.#clock.now();
    // `pb` as BullMQ's move to active writes it: the worker's own name, when it has one.
    const args: (string | number)[] = [
      worker.toKey(''),
      lockDurationMs,
      token,
      nowMs,
      worker.opts.name ?? '',
    ];
    for (const job of jobs)
      args.push(job.opts.jobId, job.name, JSON.stringify(job.data), JSON.stringify(job.opts));
    let added: number[];
    try {
      added = await ADD_ACTIVE_SCRIPT.run<number[]>(redis, [worker.keys.active!], args);
    } catch (err) {
      this.#abandonAll(jobs, early, reserved);
      throw err;
    }
    let started = 0;
    for (const [i, planned] of jobs.entries()) {
      if (Number(added[i]) !== 1) {
        void this.#abandon(planned, early[i]!);
        continue;
      }
      const job = new Job<WebhookJobData>(
        this.#o.queue,
        planned.name,
        planned.data,
        planned.opts,
        planned.opts.jobId,
      );
      job.timestamp = nowMs;
      job.processedOn = nowMs;
      job.attemptsStarted = 1;
      const running = this.#attempt(job, token, early[i]!);
      this.#running.set(running, { job, token });
      void running.finally(() => {
        this.#running.delete(running);
        this.#release(1);
      });
      started++;
    }
    this.#started += started;
    this.#release(reserved - started);
  }

  /** What BullMQ's worker does with a processor's result, for a job this process holds. */
  async #attempt(job: Job<WebhookJobData>, token: string, early: EarlyBegin): Promise<void> {
    try {
      let outcome: AttemptOutcome;
      try {
        outcome = await this.#o.processor.processBegun(job, token, early);
        // Apart, the move waits for the ledger's entry; one that failed fails the attempt, as in BullMQ's worker.
        if (!this.#o.isMoveSentWithFinish) await outcome.recorded;
      } catch (err) {
        // The processor moved the job itself (parked, or put back while the endpoint is busy).
        if (err instanceof Error && err.name === 'DelayedError') return;
        // Retried per the worker's backoff strategy, or failed for good (UnrecoverableError):
        // through the worker, whose settings hold that strategy.
        const failing = new Job<WebhookJobData>(this.#o.worker, job.name, job.data, job.opts, job.id);
        failing.timestamp = job.timestamp;
        failing.processedOn = job.processedOn ?? job.timestamp;
        failing.attemptsStarted = 1;
        await failing.moveToFailed(err instanceof Error ? err : new Error(String(err)), token, false);
        return;
      }
      const [entry, move] = await Promise.allSettled([
        outcome.recorded,
        job.moveToCompleted(outcome.result, token, false),
      ]);
      if (move.status === 'rejected') throw move.reason;
      if (entry.status === 'rejected') {
        // Delivered and completed, not recorded: its endpoint slot lapses by itself and its
        // pending mark is reconciled; only the attempt list and counters miss it.
        this.#o.logger?.warn(
          { err: entry.reason, jobId: job.id },
          'webhook delivered and completed, but its attempt could not be recorded',
        );
      }
    } catch (err) {
      // The job stays active; its lock lapses and BullMQ's stalled check hands it to a worker.
      this.#o.logger?.error({ err, jobId: job.id }, 'direct webhook attempt could not be finished');
    }
  }

  /** Waits for the begins (Cluster); if one failed, nothing is stored and the error goes up. */
  async #settleFirst(
    jobs: readonly PlannedJob[],
    early: readonly EarlyBegin[],
    reserved: number,
  ): Promise<void> {
    try {
      await Promise.all(early.map((begin) => begin.result));
    } catch (err) {
      this.#abandonAll(jobs, early, reserved);
      throw err;
    }
  }

  #abandonAll(jobs: readonly PlannedJob[], early: readonly EarlyBegin[], reserved: number): void {
    for (const [i, job] of jobs.entries()) void this.#abandon(job, early[i]!);
    this.#release(reserved);
  }

  async #abandon(job: PlannedJob, early: EarlyBegin): Promise<void> {
    try {
      await this.#o.processor.abandon(job.data, job.opts.jobId, early);
    } catch (err) {
      // The hold expires by itself (the ledger's hold margin): only a slot kept a while longer.
      this.#o.logger?.warn({ err, jobId: job.opts.jobId }, 'could not give back a webhook endpoint slot');
    }
  }

  #release(count: number): void {
    this.#free += Math.max(0, count);
    if (count > 0) this.#isCongested = false;
    while (this.#free > 0 && this.#waiters.length > 0) {
      const waiter = this.#waiters.shift()!;
      const taken = Math.min(waiter.max, this.#free);
      this.#free -= taken;
      waiter.resolve(taken);
    }
  }

  #extendLocks(): void {
    for (const { job, token } of this.#running.values()) {
      job.extendLock(token, this.#o.lockDurationMs).catch((err: unknown) => {
        this.#o.logger?.warn({ err, jobId: job.id }, 'could not extend a direct webhook attempt lock');
      });
    }
  }

  /** Takes no new attempts and waits for those in flight (each bounded by the delivery timeout). */
  async close(): Promise<void> {
    this.#isClosing = true;
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(0);
    while (this.#running.size > 0) await Promise.allSettled([...this.#running.keys()]);
    this.#clock.clearInterval(this.#lockTimer);
  }
}
