/**
 * Order per user and room (architecture invariant 4). BullMQ keeps no order between jobs once
 * one is retried or delayed, so each (user, room) has a lane in Redis: a LIST of job ids in the
 * order they were accepted. Only the head may reach Rocket.Chat; the others wait, parked as
 * delayed jobs that the head promotes when its outcome is final. A rate-limited or retrying head
 * therefore holds back exactly its own lane (and, for rate limits, its own user), never others.
 *
 * Each step is one Lua script on keys that share the user's hash tag, so it stays atomic and
 * legal on Redis Cluster.
 */
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import type { OutboundOutcome } from './types.js';

/**
 * KEYS: lane, message index. ARGV: job id, message id ('' for none), index TTL ms.
 * Appends once; returns the job's position (0 = head). A send also indexes its message id.
 */
const ENQUEUE_SCRIPT = `
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
local pos = redis.call('LPOS', KEYS[1], ARGV[1])
if pos then return pos end
return redis.call('RPUSH', KEYS[1], ARGV[1]) - 1
`;

/**
 * KEYS: lane, job hash, user rate-limit. ARGV: job id, now ms, job hash TTL ms.
 * Returns {'done', outcome} when the job already finished (a re-run after a crash),
 * {'wait', head} when another job is ahead, {'limited', ms} while the user is rate limited,
 * else records the attempt and returns {'go', previous attempt ms or '', Redis time in ms}:
 * event log entries with a later id (Redis time too) were appended after this point.
 * A job missing from its lane (its accept died between the two writes) joins at the tail.
 */
const BEGIN_SCRIPT = `
local outcome = redis.call('HGET', KEYS[2], 'outcome')
if outcome then return {'done', outcome} end
local head = redis.call('LINDEX', KEYS[1], 0)
if not head then
  redis.call('RPUSH', KEYS[1], ARGV[1])
elseif head ~= ARGV[1] then
  if not redis.call('LPOS', KEYS[1], ARGV[1]) then redis.call('RPUSH', KEYS[1], ARGV[1]) end
  return {'wait', head}
end
local ttl = redis.call('PTTL', KEYS[3])
if ttl > 0 then return {'limited', tostring(ttl)} end
local previous = redis.call('HGET', KEYS[2], 'attempt') or ''
redis.call('HSET', KEYS[2], 'attempt', ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
local time = redis.call('TIME')
return {'go', previous, tostring(math.floor(tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000))}
`;

/** KEYS: lane, job hash. ARGV: job id, outcome JSON, TTL ms. Records, leaves the lane, returns the new head. */
const FINISH_SCRIPT = `
redis.call('HSET', KEYS[2], 'outcome', ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('LREM', KEYS[1], 1, ARGV[1])
return redis.call('LINDEX', KEYS[1], 0)
`;

/** KEYS: lane. ARGV: expected head. Drops it only if it is still the head. */
const DROP_HEAD_SCRIPT = `
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then
  redis.call('LPOP', KEYS[1])
  return 1
end
return 0
`;

export type BeginResult =
  | {
      readonly kind: 'go';
      readonly previousAttemptMs: number | undefined;
      /** Redis time when the attempt began: the event log ids after it are newer (`<ms>-0`). */
      readonly logMark: string;
    }
  | { readonly kind: 'wait'; readonly headJobId: string }
  | { readonly kind: 'limited'; readonly retryAfterMs: number }
  | { readonly kind: 'done'; readonly outcome: OutboundOutcome };

type Script = (...args: (string | number)[]) => Promise<unknown>;

const COMMANDS = {
  gwOutboundEnqueue: { numberOfKeys: 2, lua: ENQUEUE_SCRIPT },
  gwOutboundBegin: { numberOfKeys: 3, lua: BEGIN_SCRIPT },
  gwOutboundFinish: { numberOfKeys: 2, lua: FINISH_SCRIPT },
  gwOutboundDropHead: { numberOfKeys: 1, lua: DROP_HEAD_SCRIPT },
} as const;

export interface OutboundLanesOptions {
  readonly redis: RedisClient;
  readonly keys: GatewayKeys;
  /** How long a job's attempt marker and outcome are kept (as long as the job itself). */
  readonly retentionMs: number;
  readonly now?: () => number;
}

export class OutboundLanes {
  readonly #redis: RedisClient;
  readonly #keys: GatewayKeys;
  readonly #retentionMs: number;
  readonly #now: () => number;

  constructor(options: OutboundLanesOptions) {
    this.#redis = options.redis;
    this.#keys = options.keys;
    this.#retentionMs = options.retentionMs;
    this.#now = options.now ?? Date.now;
    for (const [name, definition] of Object.entries(COMMANDS)) {
      if (!(name in this.#redis)) this.#redis.defineCommand(name, definition);
    }
  }

  /**
   * Adds the job at the tail of its lane unless it is there, and indexes the message id of a
   * send (message id -> job id); resolves the job's position (0 = head).
   */
  async enqueue(userId: string, roomId: string, jobId: string, messageId?: string): Promise<number> {
    const keys = this.#keys.user(userId);
    return Number(
      await this.#script('gwOutboundEnqueue')(
        keys.outboundLane(roomId),
        keys.outboundMessages,
        jobId,
        messageId ?? '',
        this.#retentionMs,
      ),
    );
  }

  /** The job at the head of the lane, if any. */
  async head(userId: string, roomId: string): Promise<string | undefined> {
    return (await this.#redis.lindex(this.#keys.user(userId).outboundLane(roomId), 0)) ?? undefined;
  }

  /** Decides whether the job may talk to Rocket.Chat now (see BEGIN_SCRIPT). */
  async begin(userId: string, roomId: string, jobId: string): Promise<BeginResult> {
    const keys = this.#keys.user(userId);
    const [kind, value, mark] = (await this.#script('gwOutboundBegin')(
      keys.outboundLane(roomId),
      keys.outboundJob(jobId),
      keys.outboundRateLimit,
      jobId,
      this.#now(),
      this.#retentionMs,
    )) as [string, string, string?];
    switch (kind) {
      case 'done':
        return { kind, outcome: JSON.parse(value) as OutboundOutcome };
      case 'wait':
        return { kind, headJobId: value };
      case 'limited':
        return { kind, retryAfterMs: Number(value) };
      default:
        return {
          kind: 'go',
          previousAttemptMs: value === '' ? undefined : Number(value),
          logMark: `${mark ?? '0'}-0`,
        };
    }
  }

  /** Records the final outcome and leaves the lane; resolves the job that is now at its head. */
  async finish(
    userId: string,
    roomId: string,
    jobId: string,
    outcome: OutboundOutcome,
  ): Promise<string | undefined> {
    const keys = this.#keys.user(userId);
    const next = await this.#script('gwOutboundFinish')(
      keys.outboundLane(roomId),
      keys.outboundJob(jobId),
      jobId,
      JSON.stringify(outcome),
      this.#retentionMs,
    );
    return typeof next === 'string' ? next : undefined;
  }

  /** Removes a head whose job is gone or already final (it can never pop itself). */
  async dropHead(userId: string, roomId: string, jobId: string): Promise<boolean> {
    const lane = this.#keys.user(userId).outboundLane(roomId);
    return (await this.#script('gwOutboundDropHead')(lane, jobId)) === 1;
  }

  /** Holds all of the user's sends for `ms` (Rocket.Chat's `too-many-requests`). */
  async holdUser(userId: string, ms: number): Promise<void> {
    await this.#redis.set(this.#keys.user(userId).outboundRateLimit, '1', 'PX', Math.max(1, Math.ceil(ms)));
  }

  #script(name: keyof typeof COMMANDS): Script {
    return ((this.#redis as unknown as Record<string, Script>)[name] as Script).bind(this.#redis);
  }
}
