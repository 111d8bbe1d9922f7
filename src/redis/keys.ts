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
  /** STRING: worker id holding the user's DDP session, with a TTL (the lease). */
  readonly lease: string;
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
  /** Pub/Sub channel where a worker receives forwarded calls. */
  workerRpcChannel(workerId: string): string;
  /** Pub/Sub channel where a process receives answers to the calls it forwarded. */
  replyChannel(processId: string): string;
  /** Pub/Sub: control notices for a user's session (payload JSON: credentials changed, consumers changed). */
  userControlChannel(userId: string): string;
}

export function createKeys(prefix = 'gw'): GatewayKeys {
  if (!/^[\w.-]+$/.test(prefix)) throw new RangeError(`key prefix must be [A-Za-z0-9_.-]+ (got ${prefix})`);
  return {
    prefix,
    user(userId: string): UserKeys {
      // User ids come from Rocket.Chat ([A-Za-z0-9]), but braces would break the hash tag.
      if (!/^[^{}\s]+$/.test(userId)) throw new RangeError('user id must not contain braces or spaces');
      const base = `${prefix}:{u:${userId}}`;
      return {
        events: `${base}:events`,
        seenMessages: `${base}:seen`,
        roomWatermarks: `${base}:rooms`,
        lease: `${base}:lease`,
        credential: `${base}:cred`,
        consumers: `${base}:consumers`,
        consumerTopics: `${base}:consumer-topics`,
        sessionState: `${base}:state`,
        liveChannel: `${base}:live`,
      };
    },
    wantedUsers: `${prefix}:wanted-users`,
    workers: `${prefix}:workers`,
    wantedChannel: `${prefix}:wanted`,
    workerRpcChannel: (workerId) => `${prefix}:rpc:${workerId}`,
    replyChannel: (processId) => `${prefix}:reply:${processId}`,
    userControlChannel: (userId) => `${prefix}:{u:${userId}}:control`,
  };
}
