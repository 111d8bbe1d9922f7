/**
 * Token lifecycle coupling: a webhook delivers what the owner's Rocket.Chat session saw, on the
 * owner's authority. While the owner's credential is not valid (revoked token, logout, none
 * stored), deliveries are parked instead of attempted: they neither reach the receiver nor burn
 * their retries (BullMQ's `moveToDelayed` does not count an attempt). Parked job ids are recorded
 * per user; a periodic check promotes them as soon as a valid credential is stored again, and
 * each parked job also wakes up by itself after `pausedRecheckMs` as a safety net.
 */
import type { Job, Queue } from 'bullmq';
import { type Clock, systemClock, type TimerHandle } from '../clock.js';
import type { Logger } from '../log/index.js';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import type { CredentialStore } from '../sessions/credential-store.js';
import type { WebhookJobData } from './webhook-queue.js';

export interface CredentialGateOptions {
  readonly redis: RedisClient;
  readonly keys: GatewayKeys;
  readonly credentials: Pick<CredentialStore, 'load'>;
  readonly queue: Queue<WebhookJobData>;
  /** A valid status is trusted for this long (a revocation takes effect within it). @defaultValue 1000 */
  readonly validCacheMs?: number;
  /** How often parked users are checked for a new credential. @defaultValue 2000 */
  readonly resumeCheckMs?: number;
  /** A parked job wakes up by itself after this, whatever the check says. @defaultValue 600000 (10 min) */
  readonly pausedRecheckMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export class CredentialGate {
  readonly #options: CredentialGateOptions;
  readonly #clock: Clock;
  readonly #validCacheMs: number;
  readonly #pausedRecheckMs: number;
  /** user id -> valid until (ms). Only valid answers are cached, so a resumed job never re-parks on a stale "invalid". */
  readonly #validUntil = new Map<string, number>();
  #timer: TimerHandle | undefined;
  #checking: Promise<void> | undefined;
  #closed = false;

  constructor(options: CredentialGateOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#validCacheMs = options.validCacheMs ?? 1000;
    this.#pausedRecheckMs = options.pausedRecheckMs ?? 600_000;
  }

  start(): void {
    this.#timer = this.#clock.setInterval(() => void this.checkParked(), this.#options.resumeCheckMs ?? 2000);
    this.#timer.unref();
  }

  /** Whether the owner's credential is valid now. A credential that cannot be read counts as not valid. */
  async isValid(userId: string): Promise<boolean> {
    const now = this.#clock.now();
    const until = this.#validUntil.get(userId);
    if (until !== undefined && until > now) return true;
    const valid = await this.#load(userId);
    if (valid) {
      if (this.#validUntil.size > 10_000) this.#validUntil.clear();
      this.#validUntil.set(userId, now + this.#validCacheMs);
    } else {
      this.#validUntil.delete(userId);
    }
    return valid;
  }

  /**
   * Parks an active job (the caller then throws BullMQ's `DelayedError`). Recorded before the
   * move, so a check running in between finds it (still active, kept for the next check).
   */
  async park(job: Job<WebhookJobData>, token: string): Promise<void> {
    const { redis, keys } = this.#options;
    const { userId } = job.data;
    await redis.sadd(keys.user(userId).webhookPausedJobs, job.id!);
    await redis.sadd(keys.webhookPausedUsers, userId);
    await job.moveToDelayed(this.#clock.now() + this.#pausedRecheckMs, token);
  }

  /** Promotes the parked jobs of every user whose credential is valid again. */
  checkParked(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#checking ??= this.#checkOnce()
      .catch((err) => this.#options.logger?.error({ err }, 'webhook resume check failed'))
      .finally(() => {
        this.#checking = undefined;
      });
    return this.#checking;
  }

  async #checkOnce(): Promise<void> {
    const { redis, keys, queue } = this.#options;
    for (const userId of await redis.smembers(keys.webhookPausedUsers)) {
      if (!(await this.#load(userId))) continue;
      this.#validUntil.set(userId, this.#clock.now() + this.#validCacheMs);
      const parkedKey = keys.user(userId).webhookPausedJobs;
      for (const jobId of await redis.smembers(parkedKey)) {
        const job = await queue.getJob(jobId);
        const state = job ? await job.getState() : 'unknown';
        // Active: being parked right now; the next check promotes it.
        if (state === 'active') continue;
        if (job && state === 'delayed') await job.promote().catch(() => undefined);
        await redis.srem(parkedKey, jobId);
      }
      if ((await redis.scard(parkedKey)) === 0) {
        await redis.srem(keys.webhookPausedUsers, userId);
        this.#options.logger?.info({ userId }, 'webhook deliveries resumed: credential valid again');
      }
    }
  }

  async #load(userId: string): Promise<boolean> {
    try {
      return (await this.#options.credentials.load(userId))?.status === 'valid';
    } catch (err) {
      this.#options.logger?.warn({ err, userId }, 'credential unreadable: webhook deliveries stay parked');
      return false;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#clock.clearInterval(this.#timer);
    await this.#checking;
  }
}
