/**
 * Every Redis key and channel the gateway uses, built in one place (as bullmq's queue-keys.ts).
 * A user's keys share the hash tag `{u:<id>}` so that Redis Cluster keeps them in one slot and
 * the Lua scripts that touch several of them stay legal on a cluster.
 */
export interface UserKeys {
  /** Redis Stream: the user's event log; entry id = event id. */
  readonly events: string;
  /** ZSET message id -> last logged `_updatedAt` (ms); `del:<id>` for logged deletions. */
  readonly seenMessages: string;
  /** HASH room id -> newest `_updatedAt` (ms) logged for that room: where catch-up starts. */
  readonly roomWatermarks: string;
  /** STRING `<generation>:<worker id>` naming who holds the user's DDP session, with a TTL (the lease). */
  readonly lease: string;
  /**
   * STRING counter: the newest lease generation ever granted for the user. Never expires: it is
   * the fence that refuses log appends and renewals from holders of an older generation.
   */
  readonly leaseGeneration: string;
  /** HASH: the encrypted Rocket.Chat credential (see credential-store.ts). */
  readonly credential: string;
  /** ZSET consumer id -> expiry (ms; +inf for durable consumers such as webhooks). */
  readonly consumers: string;
  /** HASH consumer id -> JSON array of topics it wants. */
  readonly consumerTopics: string;
  /** STRING: why the session is not running (e.g. `unauthorized`), while it is not. */
  readonly sessionState: string;
  /** Pub/Sub channel: every event appended to the log, as its serialized envelope. */
  readonly liveChannel: string;

  // --- outbound (src/outbound) ---------------------------------------------------------------
  /**
   * ZSET outbound job id -> its sequence number, for every job accepted and not yet final. The
   * order of the user's sends (and so of each room's); the worker holding the session sends from it.
   */
  readonly outboundPending: string;
  /** STRING counter: the newest outbound sequence number given out for the user. */
  readonly outboundSeq: string;
  /**
   * HASH per outbound job: `data` (JSON, until final), `seq`, `messageId`, `requestHash`,
   * `acceptId`, `attempt` (ms of the last attempt that may have reached Rocket.Chat), `attempts`,
   * `outcome` (JSON, once final).
   */
  outboundJob(jobId: string): string;
  /** STRING with a TTL: while it exists, Rocket.Chat asked us (`too-many-requests`) to hold this user's sends. */
  readonly outboundRateLimit: string;
  /** HASH Rocket.Chat message id -> outbound job id: finds the room of a message still queued. */
  readonly outboundMessages: string;

  // --- webhooks (src/webhooks) --------------------------------------------------------------
  /** SET of the user's webhook ids. */
  readonly webhookIds: string;
  /** HASH per webhook: its registration and delivery state (see src/webhooks/webhook-store.ts). */
  webhook(webhookId: string): string;
  /** `webhook(id)` is this + id: for Lua scripts that walk `webhookIds` (same hash tag, same slot). */
  readonly webhookPrefix: string;
  /** LIST per webhook: recent delivery attempts as JSON, newest first, bounded. */
  webhookAttempts(webhookId: string): string;
  /** ZSET per webhook: dead letters, event id -> event time (ms); `replay` sends them again. */
  webhookDeadLetters(webhookId: string): string;
  /** HASH per webhook: dead letter event id -> JSON (envelope, error, when it failed). */
  webhookDeadLetterBodies(webhookId: string): string;
  /** ZSET per webhook: delivery job ids in flight -> hold expiry (ms); the per-endpoint semaphore. */
  webhookInflight(webhookId: string): string;
  /**
   * ZSET per webhook: delivery job ids added and not finished yet -> when added (ms): the
   * endpoint's backlog in its statistics.
   */
  webhookPending(webhookId: string): string;
  /** STRING: the id of the last event handed to the webhook queue (the dispatch cursor). */
  readonly webhookCursor: string;
  /**
   * STRING counter: bumped by every change to what the dispatcher routes by (a webhook created,
   * updated, deleted or disabled), so the dispatcher keeps the user's targets while it stands still.
   */
  readonly webhookVersion: string;
  /** STRING with a TTL: the token of the dispatcher that owns this user's dispatch. */
  readonly webhookDispatchLease: string;
  /** SET: delivery job ids parked while the user's Rocket.Chat credential is not valid. */
  readonly webhookPausedJobs: string;

  // --- incoming hooks (src/hooks) ------------------------------------------------------------
  /** SET of the user's incoming hook ids (the records live under the hook's own tag, `hook(id)`). */
  readonly hookIds: string;
}

export interface GatewayKeys {
  readonly prefix: string;
  user(userId: string): UserKeys;
  /** ZSET user id -> time it became wanted: users that need a session somewhere. */
  readonly wantedUsers: string;
  /** ZSET worker id -> heartbeat expiry (ms): the live workers. */
  readonly workers: string;
  /** Pub/Sub: a user needs a session now (payload: user id); workers race to claim it. */
  readonly wantedChannel: string;
  /** Pub/Sub channel where a worker receives forwarded work; its subscription is the worker's presence. */
  workerRpcChannel(workerId: string): string;
  /** STRING with a short TTL, renewed by the worker: its presence where Pub/Sub cannot count it (Cluster). */
  workerAlive(workerId: string): string;
  /** Pub/Sub channel where a process receives answers to the calls it forwarded. */
  replyChannel(processId: string): string;
  /** Pub/Sub: control notices for a user's session (payload JSON: credentials changed, consumers changed). */
  userControlChannel(userId: string): string;
  /** PSUBSCRIBE pattern matching every user's control channel; `userIdOfControlChannel` reverses it. */
  readonly userControlPattern: string;
  userIdOfControlChannel(channel: string): string | undefined;

  // --- webhooks (src/webhooks) --------------------------------------------------------------
  /** SET of user ids with at least one webhook: the users webhook dispatchers look after. */
  readonly webhookUsers: string;
  /** SET of user ids with webhook deliveries parked because their credential is not valid. */
  readonly webhookPausedUsers: string;
  /**
   * ZSET: Rocket.Chat message ids the gateway posted as replies of `rocketchat` webhooks -> when
   * (ms), the newest 100 000: every `rocketchat` delivery of them says `bot: true`, whoever's
   * webhook it is (Rocket.Chat marks integration messages for all integrations alike).
   */
  readonly webhookReplyMessages: string;
  /** Pub/Sub: a user's webhooks changed (payload: user id); dispatchers claim it or reload. */
  readonly webhookChangesChannel: string;

  // --- REST rate limit (src/http/rate-limit.ts) ---------------------------------------------
  /**
   * STRING counter: requests `subject` (`<policy>:user:<id>`, `<policy>:ip:<address>`) made in
   * the fixed window numbered `windowIndex` (window start ms / window ms). A subject's windows
   * share the hash tag `{rl:<subject>}`, so the script reading two of them stays in one Cluster
   * slot; each expires two windows after it opens.
   */
  rateLimitWindow(subject: string, windowIndex: number): string;

  // --- incoming hooks (src/hooks) ------------------------------------------------------------
  /**
   * HASH per incoming hook (see src/hooks/hook-store.ts). Found by the hook id alone, since
   * `POST /hooks/:id/:token` carries no user: its keys share the hash tag `{hook:<id>}`, not the
   * owner's. The owner's `hookIds` set names it.
   */
  hook(hookId: string): string;
  /** LIST per incoming hook: its recent posts as JSON, newest first, bounded. */
  hookRequests(hookId: string): string;
}

export function createKeys(prefix = 'gw'): GatewayKeys {
  if (!/^[\w.-]+$/.test(prefix)) throw new RangeError(`key prefix must be [A-Za-z0-9_.-]+ (got ${prefix})`);
  return {
    prefix,
    user(userId: string): UserKeys {
      // User ids come from Rocket.Chat ([A-Za-z0-9]), but braces would break the hash tag.
      if (!/^[^{}\s]+$/.test(userId)) throw new RangeError('user id must not contain braces or spaces');
      return new UserKeySet(`${prefix}:{u:${userId}}`);
    },
    wantedUsers: `${prefix}:wanted-users`,
    workers: `${prefix}:workers`,
    wantedChannel: `${prefix}:wanted`,
    workerRpcChannel: (workerId) => `${prefix}:rpc:${workerId}`,
    workerAlive: (workerId) => `${prefix}:{w:${workerId}}:alive`,
    replyChannel: (processId) => `${prefix}:reply:${processId}`,
    userControlChannel: (userId) => `${prefix}:{u:${userId}}:control`,
    userControlPattern: `${prefix}:{u:*}:control`,
    userIdOfControlChannel: (channel) => {
      const head = `${prefix}:{u:`;
      const tail = '}:control';
      if (!channel.startsWith(head) || !channel.endsWith(tail)) return undefined;
      return channel.slice(head.length, channel.length - tail.length);
    },
    webhookUsers: `${prefix}:wh-users`,
    webhookPausedUsers: `${prefix}:wh-paused-users`,
    webhookChangesChannel: `${prefix}:wh-changes`,
    webhookReplyMessages: `${prefix}:wh-reply-messages`,
    rateLimitWindow: (subject, windowIndex) => {
      // Subjects carry user ids and client addresses (IPv6 has ':'); braces would break the tag.
      if (!/^[^{}\s]{1,256}$/.test(subject))
        throw new RangeError('rate limit subject must not contain braces or spaces');
      if (!Number.isSafeInteger(windowIndex) || windowIndex < 0)
        throw new RangeError('window index must be a non-negative integer');
      return `${prefix}:{rl:${subject}}:${windowIndex}`;
    },
    hook: (hookId) => `${prefix}:{hook:${checkHookId(hookId)}}`,
    hookRequests: (hookId) => `${prefix}:{hook:${checkHookId(hookId)}}:requests`,
  };
}

/**
 * A user's keys, each built when read. `keys.user()` runs on every append, delivery, lease
 * renewal and request; building all ~30 keys and 8 closures each time (~4 KiB) for the two or
 * three a caller reads was a sixth of what a worker allocated per event under load
 * (bench/RESULTS.md). The getters live on the prototype: one small object per call.
 */
class UserKeySet implements UserKeys {
  readonly #base: string;

  constructor(base: string) {
    this.#base = base;
  }

  get events(): string {
    return `${this.#base}:events`;
  }
  get seenMessages(): string {
    return `${this.#base}:seen`;
  }
  get roomWatermarks(): string {
    return `${this.#base}:rooms`;
  }
  get lease(): string {
    return `${this.#base}:lease`;
  }
  get leaseGeneration(): string {
    return `${this.#base}:lease-gen`;
  }
  get credential(): string {
    return `${this.#base}:cred`;
  }
  get consumers(): string {
    return `${this.#base}:consumers`;
  }
  get consumerTopics(): string {
    return `${this.#base}:consumer-topics`;
  }
  get sessionState(): string {
    return `${this.#base}:state`;
  }
  get liveChannel(): string {
    return `${this.#base}:live`;
  }
  get outboundPending(): string {
    return `${this.#base}:out:pending`;
  }
  get outboundSeq(): string {
    return `${this.#base}:out:seq`;
  }
  outboundJob(jobId: string): string {
    return `${this.#base}:out:job:${jobId}`;
  }
  get outboundRateLimit(): string {
    return `${this.#base}:out:rate-limit`;
  }
  get outboundMessages(): string {
    return `${this.#base}:out:messages`;
  }
  // webhooks: ids are `wh_<base64url>`, so `wh:<id>` never meets `wh:list` or `wh:cursor`.
  get webhookIds(): string {
    return `${this.#base}:wh:list`;
  }
  webhook(webhookId: string): string {
    return `${this.#base}:wh:${checkWebhookId(webhookId)}`;
  }
  get webhookPrefix(): string {
    return `${this.#base}:wh:`;
  }
  webhookAttempts(webhookId: string): string {
    return `${this.webhook(webhookId)}:attempts`;
  }
  webhookDeadLetters(webhookId: string): string {
    return `${this.webhook(webhookId)}:dead`;
  }
  webhookDeadLetterBodies(webhookId: string): string {
    return `${this.webhook(webhookId)}:dead-bodies`;
  }
  webhookInflight(webhookId: string): string {
    return `${this.webhook(webhookId)}:inflight`;
  }
  webhookPending(webhookId: string): string {
    return `${this.webhook(webhookId)}:pending`;
  }
  get webhookCursor(): string {
    return `${this.#base}:wh:cursor`;
  }
  get webhookVersion(): string {
    return `${this.#base}:wh:version`;
  }
  get webhookDispatchLease(): string {
    return `${this.#base}:wh:lease`;
  }
  get webhookPausedJobs(): string {
    return `${this.#base}:wh:paused`;
  }
  get hookIds(): string {
    return `${this.#base}:hooks`;
  }
}

/** Incoming hook ids are generated (`hk_` + base64url); anything else must not shape a key. */
function checkHookId(hookId: string): string {
  if (!/^hk_[A-Za-z0-9_-]{1,64}$/.test(hookId)) throw new RangeError('malformed hook id');
  return hookId;
}

/** Webhook ids are generated (`wh_` + base64url); anything else must not shape a key. */
function checkWebhookId(webhookId: string): string {
  if (!/^wh_[A-Za-z0-9_-]{1,64}$/.test(webhookId)) throw new RangeError('malformed webhook id');
  return webhookId;
}
