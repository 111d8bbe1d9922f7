/**
 * Generated from the gateway's OpenAPI document by packages/client/scripts/generate-types.ts.
 * Do not edit: run `npm run generate --prefix packages/client` after changing src/openapi/.
 */

/** A Rocket.Chat room id (`GENERAL`, a 17-character id, a direct-message id) */
export type RoomId = string;

/** A Rocket.Chat message id */
export type MessageId = string;

/** A Rocket.Chat user id */
export type UserId = string;

/** A date: EJSON `{"$date": <ms since the epoch>}` (what DDP sends) or ISO-8601 with a zone. */
export type EjsonDate = {
  $date: number;
} | string;

export type PasswordLogin = {
  username: string;
  password: string;
};

export type TokenLogin = {
  userId: string;
  authToken: string;
};

/** A content filter: every condition given must hold (AND). It applies to message events; other events pass. */
export type ContentFilter = {
  /** Leave out messages the user sent (`u._id` is the user's id): a bot does not hear itself. */
  excludeOwn?: boolean;
  /** Only messages that mention the user by name (`mentions` holds its id); `@all` and `@here` do not count. */
  mentionsMe?: boolean;
  /** Only the thread with this root message: its replies (`tmid`) and the root itself. */
  threadId?: MessageId;
  /** Only messages from these users, by username or user id. */
  senders?: string[];
  /** Only messages of these types (Rocket.Chat's `t`: `uj`, `discussion-created`, ...); `plain` is an ordinary message, one without `t`. */
  messageTypes?: string[];
};

/** An array of strings, or one comma-separated string. */
export type StringList = string | string[];

/** Request headers sent with every delivery, replacing all earlier ones (`{}` removes them). Names are HTTP tokens (stored lower-case); hop-by-hop headers, `host`, `content-*`, `expect` and the signature headers (`webhook-*`) are refused; values are visible ASCII, spaces and tabs (no CR/LF), at most 1024 characters; at most 20 headers, 8 KiB in all. Values are stored encrypted and never shown. */
export type CustomHeaders = {
  [key: string]: string;
};

export type WebhookCreate = {
  /** The absolute http(s) URL that receives the events (`http:` only while `WEBHOOK_ALLOW_HTTP`, off in production). */
  url: string;
  topics: StringList;
  events?: StringList;
  description?: string;
  filter?: ContentFilter | null;
  /** `gateway` (default): the event envelope. `rocketchat`: the body Rocket.Chat's outgoing integration posts (`token`, `bot`, `channel_id`, `channel_name`, `message_id`, `timestamp`, `user_id`, `user_name`, `text`, `siteUrl`...), for `message.created` (and `message.updated` when listed); a 200-202 JSON reply with `text` or `attachments` is posted back into the room as the owner. */
  format?: "gateway" | "rocketchat";
  /** Format `rocketchat` only: the token put in every body, which receivers check (keep the one an existing receiver expects). Generated when absent; shown only in the answer that sets it. */
  token?: string;
  headers?: CustomHeaders;
};

export type WebhookUpdate = {
  /** The absolute http(s) URL that receives the events (`http:` only while `WEBHOOK_ALLOW_HTTP`, off in production). */
  url?: string;
  topics?: StringList;
  events?: StringList;
  description?: string;
  /** `true` re-enables a disabled webhook and resets its failures. */
  enabled?: boolean;
  /** A new content filter; `null` removes it. */
  filter?: ContentFilter | null;
  /** `gateway` (default): the event envelope. `rocketchat`: the body Rocket.Chat's outgoing integration posts (`token`, `bot`, `channel_id`, `channel_name`, `message_id`, `timestamp`, `user_id`, `user_name`, `text`, `siteUrl`...), for `message.created` (and `message.updated` when listed); a 200-202 JSON reply with `text` or `attachments` is posted back into the room as the owner. */
  format?: "gateway" | "rocketchat";
  /** Format `rocketchat` only: the token put in every body, which receivers check (keep the one an existing receiver expects). Generated when absent; shown only in the answer that sets it. */
  token?: string;
  headers?: CustomHeaders;
};

export type ResendRequest = {
  /** An event id from the log, or of a dead letter of this webhook. */
  eventId: string;
};

export type ReplayRequest = {
  since: string | number;
  until?: string | number;
};

export type MessageSend = {
  roomId: RoomId;
  text: string;
  threadId?: MessageId;
  alias?: string;
  emoji?: string;
  attachments?: {
    [key: string]: unknown;
  }[];
};

export type MessageEdit = {
  text: string;
};

export type Reaction = {
  emoji: string;
  shouldReact?: boolean;
};

/** A method call; `{}` or no body at all is `{"params": []}`. */
export type MethodCall = {
  /** The method's parameters, in Rocket.Chat's order: `<Method>Params` of the method named in the path. */
  params?: RoomsGetParams | GetRoomByIdParams | GetRoomNameByIdParams | GetRoomByTypeAndNameParams | ReadMessagesParams | LoadHistoryParams | LoadMissedMessagesParams | MessagesGetParams | GetSingleMessageParams | SubscriptionsGetParams | GetRoomRolesParams | AddRoomOwnerParams | RemoveRoomOwnerParams | AddRoomModeratorParams | RemoveRoomModeratorParams | AddRoomLeaderParams | RemoveRoomLeaderParams | CreateChannelParams | CreatePrivateGroupParams | CreateDirectMessageParams | JoinRoomParams | LeaveRoomParams | ArchiveRoomParams | UnarchiveRoomParams | ToggleFavoriteParams | HideRoomParams | OpenRoomParams | SaveRoomSettingsParams | StreamNotifyRoomParams | UserPresenceSetDefaultStatusParams | UserPresenceAwayParams | UserPresenceOnlineParams;
};

/** `params` of `rooms/get` */
export type RoomsGetParams = [] | [EjsonDate];

/** `params` of `getRoomById` */
export type GetRoomByIdParams = [RoomId];

/** `params` of `getRoomNameById` */
export type GetRoomNameByIdParams = [RoomId];

/** `params` of `getRoomByTypeAndName` */
export type GetRoomByTypeAndNameParams = ["c" | "p" | "d", string];

/** `params` of `readMessages` */
export type ReadMessagesParams = [RoomId];

/** `params` of `loadHistory` */
export type LoadHistoryParams = [RoomId] | [RoomId, EjsonDate | null] | [RoomId, EjsonDate | null, number] | [RoomId, EjsonDate | null, number, EjsonDate | null] | [RoomId, EjsonDate | null, number, EjsonDate | null, boolean];

/** `params` of `loadMissedMessages` */
export type LoadMissedMessagesParams = [RoomId, EjsonDate];

/** `params` of `messages/get` */
export type MessagesGetParams = [RoomId, {
  lastUpdate: EjsonDate;
} | {
  type: "UPDATED" | "DELETED";
  next?: string;
  previous?: string;
  count?: number;
}];

/** `params` of `getSingleMessage` */
export type GetSingleMessageParams = [MessageId];

/** `params` of `subscriptions/get` */
export type SubscriptionsGetParams = [] | [EjsonDate];

/** `params` of `getRoomRoles` */
export type GetRoomRolesParams = [RoomId];

/** `params` of `addRoomOwner` */
export type AddRoomOwnerParams = [RoomId, UserId];

/** `params` of `removeRoomOwner` */
export type RemoveRoomOwnerParams = [RoomId, UserId];

/** `params` of `addRoomModerator` */
export type AddRoomModeratorParams = [RoomId, UserId];

/** `params` of `removeRoomModerator` */
export type RemoveRoomModeratorParams = [RoomId, UserId];

/** `params` of `addRoomLeader` */
export type AddRoomLeaderParams = [RoomId, UserId];

/** `params` of `removeRoomLeader` */
export type RemoveRoomLeaderParams = [RoomId, UserId];

/** `params` of `createChannel` */
export type CreateChannelParams = [string] | [string, string[]] | [string, string[], boolean] | [string, string[], boolean, {
  [key: string]: unknown;
}] | [string, string[], boolean, {
  [key: string]: unknown;
}, {
  [key: string]: unknown;
}];

/** `params` of `createPrivateGroup` */
export type CreatePrivateGroupParams = [string] | [string, string[]] | [string, string[], boolean] | [string, string[], boolean, {
  [key: string]: unknown;
}] | [string, string[], boolean, {
  [key: string]: unknown;
}, {
  [key: string]: unknown;
}];

/** `params` of `createDirectMessage` */
export type CreateDirectMessageParams = string[];

/** `params` of `joinRoom` */
export type JoinRoomParams = [RoomId] | [RoomId, string];

/** `params` of `leaveRoom` */
export type LeaveRoomParams = [RoomId];

/** `params` of `archiveRoom` */
export type ArchiveRoomParams = [RoomId];

/** `params` of `unarchiveRoom` */
export type UnarchiveRoomParams = [RoomId];

/** `params` of `toggleFavorite` */
export type ToggleFavoriteParams = [RoomId, boolean];

/** `params` of `hideRoom` */
export type HideRoomParams = [RoomId];

/** `params` of `openRoom` */
export type OpenRoomParams = [RoomId];

/** `params` of `saveRoomSettings` */
export type SaveRoomSettingsParams = [RoomId, string, unknown] | [RoomId, {
  [key: string]: unknown;
}];

/** `params` of `stream-notify-room` */
export type StreamNotifyRoomParams = [string, string, boolean] | [string, string, ("user-typing" | "user-recording" | "user-uploading")[]] | [string, string, ("user-typing" | "user-recording" | "user-uploading")[], {
  [key: string]: unknown;
}];

/** `params` of `UserPresence:setDefaultStatus` */
export type UserPresenceSetDefaultStatusParams = ["online" | "away" | "busy" | "offline"];

/** `params` of `UserPresence:away` */
export type UserPresenceAwayParams = [];

/** `params` of `UserPresence:online` */
export type UserPresenceOnlineParams = [];

export type HookCreate = {
  /** Where posts go unless they name a `channel`; the owner must be able to see it. */
  roomId: RoomId;
  /** Default display name. */
  alias?: string;
  /** Default avatar emoji. */
  emoji?: string;
  /** Default avatar URL. */
  avatar?: string;
  description?: string;
  /** When set, posts must be signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with this secret; never shown again. */
  signingSecret?: string;
  /** `true`: a post's `channel` may name any room the owner can use (`#name`, `@username`, a room id). Otherwise posts naming another room than `roomId` are refused with 403. Set at creation only. */
  allowChannelOverride?: boolean;
};

/** `null` removes an optional field (`signingSecret: null`: posts need no signature). */
export type HookUpdate = {
  roomId?: RoomId;
  alias?: string | null;
  emoji?: string | null;
  avatar?: string | null;
  description?: string;
  signingSecret?: string | null;
  /** `false`: posts are refused with 403 until re-enabled. */
  enabled?: boolean;
};

/** Rocket.Chat's incoming-webhook payload; Slack's names (`username`, `icon_emoji`, `icon_url`) work too, and other keys are ignored. `text` may be empty only with `attachments`. */
export type IncomingHookPayload = {
  text?: string;
  /** Same as `text`. */
  msg?: string;
  /** `#name`, `@username` (direct message) or a room id; the hook room when absent. Only hooks created with `allowChannelOverride: true` accept another room than their own (403 otherwise); then Rocket.Chat decides whether the owner may use it. */
  channel?: string | string[];
  /** Same as `channel`. */
  roomId?: string;
  alias?: string;
  /** Slack: same as `alias`. */
  username?: string;
  emoji?: string;
  /** Slack: same as `emoji`. */
  icon_emoji?: string;
  avatar?: string;
  /** Slack: same as `avatar`. */
  icon_url?: string;
  /** Post in this thread. */
  tmid?: MessageId;
  attachments?: {
    [key: string]: unknown;
  }[];
};

/** The body of every error response. Branch on `error`, never on `message` (docs/errors.md). */
export type Error = {
  error: "GW_ERR_VALIDATION" | "GW_ERR_TOPIC_INVALID" | "GW_ERR_WEBHOOK_TARGET_FORBIDDEN" | "GW_ERR_UNAUTHENTICATED" | "GW_ERR_NO_CREDENTIALS" | "GW_ERR_CREDENTIALS_INVALID" | "GW_ERR_FORBIDDEN" | "GW_ERR_NOT_FOUND" | "GW_ERR_METHOD_NOT_ALLOWED" | "GW_ERR_CONFLICT" | "GW_ERR_PAYLOAD_TOO_LARGE" | "GW_ERR_UNSUPPORTED_MEDIA_TYPE" | "GW_ERR_RATE_LIMITED" | "GW_ERR_INTERNAL" | "GW_ERR_CONFIG" | "GW_ERR_UPSTREAM" | "GW_ERR_UPSTREAM_UNAVAILABLE" | "GW_ERR_SESSION_CAPACITY" | "GW_ERR_DRAINING" | "GW_ERR_UPSTREAM_TIMEOUT" | "GW_ERR_FORWARD_TIMEOUT";
  message: string;
  /** When waiting helps; the response also has `Retry-After` (seconds). */
  retryAfterMs?: number;
  /** Structured facts. A `GW_ERR_VALIDATION` from a schema check lists the bad fields in `fields`; an error from Rocket.Chat carries its code in `upstreamError`. */
  details?: {
    fields?: {
      /** Dotted path into the input (`topics.0`); `(body)` for the input as a whole. */
      field: string;
      message: string;
    }[];
    upstreamError?: string | number;
    upstreamReason?: string;
  };
};

export type Probe = {
  status: "ok" | "unavailable";
  /** Why the replica is not ready (Redis, draining). */
  reason?: string;
};

/** Pass as `cursor` for the next page; null on the last page. Opaque. */
export type NextCursor = string | null;

export type SessionCreated = {
  /** Gateway access token: `Authorization: Bearer <token>`. */
  token: string;
  userId: string;
  username: string;
  expiresAt: string;
};

export type SseToken = {
  /** Only valid as `GET /v1/events?access_token=`. */
  token: string;
  expiresAt: string;
};

export type EventsCookie = {
  /** When the cookie and its token end. */
  expiresAt: string;
};

/** One gateway event: the `data:` of an SSE frame and the body of a webhook delivery, byte for byte. `type` says which of the shapes below it is; `GET /v1/event-types` serves the same schemas. */
export type Event = MessageCreatedEvent | MessageUpdatedEvent | MessageDeletedEvent | MessageEphemeralEvent | TypingEvent | UserStatusEvent | RoomChangedEvent | SubscriptionChangedEvent | NotificationEvent | SessionUnauthorizedEvent | OutboundSentEvent | OutboundFailedEvent | WebhookDisabledEvent | WebhookTestEvent;

/** A new message in a room */
export type MessageCreatedEvent = {
  /** The event log id (`<ms>-<seq>`); resume with `Last-Event-ID` */
  id: string;
  type: "message.created";
  /** Whose session saw the event */
  userId: string;
  roomId?: string;
  /** When the gateway received it (ISO-8601) */
  ts: string;
  /** A new message in a room */
  data: {
    /** The message id */
    _id: string;
    /** The room id */
    rid?: string;
    /** The text */
    msg?: string;
    /** The message type (`uj`, `rm`, ...); absent for an ordinary message */
    t?: string;
    /** The sender */
    u?: {
      _id: string;
      username?: string;
      name?: string;
      [key: string]: unknown;
    };
    /** ISO-8601 date-time */
    ts?: string;
    /** ISO-8601 date-time */
    _updatedAt?: string;
    /** ISO-8601 date-time */
    editedAt?: string;
    /** The thread (its root message id) */
    tmid?: string;
    /** Mentioned users (`all` and `here` for group mentions) */
    mentions?: {
      _id: string;
      username?: string;
      name?: string;
      [key: string]: unknown;
    }[];
    [key: string]: unknown;
  };
};

/** A message changed: edited, reacted to, pinned, starred, a thread reply */
export type MessageUpdatedEvent = {
  /** The event log id (`<ms>-<seq>`); resume with `Last-Event-ID` */
  id: string;
  type: "message.updated";
  /** Whose session saw the event */
  userId: string;
  roomId?: string;
  /** When the gateway received it (ISO-8601) */
  ts: string;
  /** A message changed: edited, reacted to, pinned, starred, a thread reply */
  data: {
    /** The message id */
    _id: string;
    /** The room id */
    rid?: string;
    /** The text */
    msg?: string;
    /** The message type (`uj`, `rm`, ...); absent for an ordinary message */
    t?: string;
    /** The sender */
    u?: {
      _id: string;
      username?: string;
      name?: string;
      [key: string]: unknown;
    };
    /** ISO-8601 date-time */
    ts?: string;
    /** ISO-8601 date-time */
    _updatedAt?: string;
    /** ISO-8601 date-time */
    editedAt?: string;
    /** The thread (its root message id) */
    tmid?: string;
    /** Mentioned users (`all` and `here` for group mentions) */
    mentions?: {
      _id: string;
      username?: string;
      name?: string;
      [key: string]: unknown;
    }[];
    [key: string]: unknown;
  };
};

/** A message deleted: the whole message (`t: "rm"`), `{_id, rid, _deletedAt?}`, or a bulk deletion */
export type MessageDeletedEvent = {
  /** The event log id (`<ms>-<seq>`); resume with `Last-Event-ID` */
  id: string;
  type: "message.deleted";
  /** Whose session saw the event */
  userId: string;
  roomId?: string;
  /** When the gateway received it (ISO-8601) */
  ts: string;
  /** A message deleted: the whole message (`t: "rm"`), `{_id, rid, _deletedAt?}`, or a bulk deletion */
  data: {
    /** The message id */
    _id: string;
    /** The room id */
    rid?: string;
    /** The text */
    msg?: string;
    /** The message type (`uj`, `rm`, ...); absent for an ordinary message */
    t?: string;
    /** The sender */
    u?: {
      _id: string;
      username?: string;
      name?: string;
      [key: string]: unknown;
    };
    /** ISO-8601 date-time */
    ts?: string;
    /** ISO-8601 date-time */
    _updatedAt?: string;
    /** ISO-8601 date-time */
    editedAt?: string;
    /** The thread (its root message id) */
    tmid?: string;
    /** Mentioned users (`all` and `here` for group mentions) */
    mentions?: {
      _id: string;
      username?: string;
      name?: string;
      [key: string]: unknown;
    }[];
    [key: string]: unknown;
  } | {
    rid: string;
    bulk: true;
    [key: string]: unknown;
  };
};

/** A private message from rocket.cat to this user only, never stored */
export type MessageEphemeralEvent = {
  /** The event log id (`<ms>-<seq>`); resume with `Last-Event-ID` */
  id: string;
  type: "message.ephemeral";
  /** Whose session saw the event */
  userId: string;
  roomId?: string;
  /** When the gateway received it (ISO-8601) */
  ts: string;
  /** A private message from rocket.cat to this user only, never stored */
  data: {
    /** The message id */
    _id: string;
    /** The room id */
    rid?: string;
    /** The text */
    msg?: string;
    /** The message type (`uj`, `rm`, ...); absent for an ordinary message */
    t?: string;
    /** The sender */
    u?: {
      _id: string;
      username?: string;
      name?: string;
      [key: string]: unknown;
    };
    /** ISO-8601 date-time */
    ts?: string;
    /** ISO-8601 date-time */
    _updatedAt?: string;
    /** ISO-8601 date-time */
    editedAt?: string;
    /** The thread (its root message id) */
    tmid?: string;
    /** Mentioned users (`all` and `here` for group mentions) */
    mentions?: {
      _id: string;
      username?: string;
      name?: string;
      [key: string]: unknown;
    }[];
    [key: string]: unknown;
  };
};

/** Someone started or stopped typing in a room */
export type TypingEvent = {
  /** The event log id (`<ms>-<seq>`); resume with `Last-Event-ID` */
  id: string;
  type: "typing";
  /** Whose session saw the event */
  userId: string;
  roomId?: string;
  /** When the gateway received it (ISO-8601) */
  ts: string;
  /** Someone started or stopped typing in a room */
  data: {
    username: string;
    typing: boolean;
    /** Rocket.Chat 6+: `user-typing`, `user-recording`, ... */
    activities?: string[];
  };
};

/** A user's presence changed */
export type UserStatusEvent = {
  /** The event log id (`<ms>-<seq>`); resume with `Last-Event-ID` */
  id: string;
  type: "user.status";
  /** Whose session saw the event */
  userId: string;
  roomId?: string;
  /** When the gateway received it (ISO-8601) */
  ts: string;
  /** A user's presence changed */
  data: {
    userId: string;
    username: string;
    status: "offline" | "online" | "away" | "busy";
    statusText: string;
  };
};

/** A room the user is in was created, changed or removed */
export type RoomChangedEvent = {
  /** The event log id (`<ms>-<seq>`); resume with `Last-Event-ID` */
  id: string;
  type: "room.changed";
  /** Whose session saw the event */
  userId: string;
  roomId?: string;
  /** When the gateway received it (ISO-8601) */
  ts: string;
  /** A room the user is in was created, changed or removed */
  data: {
    /** `inserted`, `updated` or `removed` */
    action: string;
    room: {
      _id: string;
      [key: string]: unknown;
    };
  };
};

/** The user's subscription to a room changed (unread counts, alerts, ...) */
export type SubscriptionChangedEvent = {
  /** The event log id (`<ms>-<seq>`); resume with `Last-Event-ID` */
  id: string;
  type: "subscription.changed";
  /** Whose session saw the event */
  userId: string;
  roomId?: string;
  /** When the gateway received it (ISO-8601) */
  ts: string;
  /** The user's subscription to a room changed (unread counts, alerts, ...) */
  data: {
    /** `inserted`, `updated` or `removed` */
    action: string;
    subscription: {
      _id: string;
      rid?: string;
      [key: string]: unknown;
    };
  };
};

/** A desktop notification for the user (a direct message or a mention) */
export type NotificationEvent = {
  /** The event log id (`<ms>-<seq>`); resume with `Last-Event-ID` */
  id: string;
  type: "notification";
  /** Whose session saw the event */
  userId: string;
  roomId?: string;
  /** When the gateway received it (ISO-8601) */
  ts: string;
  /** A desktop notification for the user (a direct message or a mention) */
  data: {
    title?: string;
    text?: string;
    payload?: {
      _id?: string;
      rid?: string;
      [key: string]: unknown;
    };
    [key: string]: unknown;
  };
};

/** The user's Rocket.Chat session ended; streams end after this event */
export type SessionUnauthorizedEvent = {
  /** The event log id (`<ms>-<seq>`); resume with `Last-Event-ID` */
  id: string;
  type: "session.unauthorized";
  /** Whose session saw the event */
  userId: string;
  roomId?: string;
  /** When the gateway received it (ISO-8601) */
  ts: string;
  /** The user's Rocket.Chat session ended; streams end after this event */
  data: {
    /** `force_logout`, `logout`, or why the token stopped working */
    reason: string;
  };
};

/** A queued send, edit, deletion or reaction reached Rocket.Chat */
export type OutboundSentEvent = {
  /** The event log id (`<ms>-<seq>`); resume with `Last-Event-ID` */
  id: string;
  type: "outbound.sent";
  /** Whose session saw the event */
  userId: string;
  roomId?: string;
  /** When the gateway received it (ISO-8601) */
  ts: string;
  /** A queued send, edit, deletion or reaction reached Rocket.Chat */
  data: {
    /** The outbound job id (`GET /v1/messages/{id}`) */
    id: string;
    messageId: string;
    kind: "send" | "edit" | "delete" | "reaction";
    status: "sent";
    /** The message as Rocket.Chat stored it, when it answered one */
    message?: {
      [key: string]: unknown;
    };
  };
};

/** A queued send, edit, deletion or reaction failed for good */
export type OutboundFailedEvent = {
  /** The event log id (`<ms>-<seq>`); resume with `Last-Event-ID` */
  id: string;
  type: "outbound.failed";
  /** Whose session saw the event */
  userId: string;
  roomId?: string;
  /** When the gateway received it (ISO-8601) */
  ts: string;
  /** A queued send, edit, deletion or reaction failed for good */
  data: {
    /** The outbound job id (`GET /v1/messages/{id}`) */
    id: string;
    messageId: string;
    kind: "send" | "edit" | "delete" | "reaction";
    status: "failed";
    error: {
      /** A `GW_ERR_*` code (docs/errors.md) */
      code: string;
      message: string;
      upstreamError?: string | number;
    };
    /** The message as Rocket.Chat stored it, when it answered one */
    message?: {
      [key: string]: unknown;
    };
  };
};

/** One of the user's webhooks was disabled (too many failures, or the receiver answered 410) */
export type WebhookDisabledEvent = {
  /** The event log id (`<ms>-<seq>`); resume with `Last-Event-ID` */
  id: string;
  type: "webhook.disabled";
  /** Whose session saw the event */
  userId: string;
  roomId?: string;
  /** When the gateway received it (ISO-8601) */
  ts: string;
  /** One of the user's webhooks was disabled (too many failures, or the receiver answered 410) */
  data: {
    webhookId: string;
    reason: "manual" | "failures" | "gone";
    consecutiveFailures: number;
    lastError: string | null;
    /** ISO-8601 date-time */
    disabledAt: string;
  };
};

/** `POST /v1/webhooks/{id}/test`: sent to that endpoint only, never logged */
export type WebhookTestEvent = {
  /** `test_<uuid>`: test events are not in the log */
  id: string;
  type: "webhook.test";
  /** Whose session saw the event */
  userId: string;
  roomId?: string;
  /** When the gateway received it (ISO-8601) */
  ts: string;
  /** `POST /v1/webhooks/{id}/test`: sent to that endpoint only, never logged */
  data: {
    webhookId: string;
    message: string;
  };
};

export type EventTypeCatalogue = {
  eventTypes: {
    type: "message.created" | "message.updated" | "message.deleted" | "message.ephemeral" | "typing" | "user.status" | "room.changed" | "subscription.changed" | "notification" | "session.unauthorized" | "outbound.sent" | "outbound.failed" | "webhook.disabled" | "webhook.test";
    description: string;
    /** JSON Schema (2020-12) of the event's envelope, `data` included. */
    schema: Record<string, unknown>;
  }[];
};

export type WebhookFields = {
  id: string;
  url: string;
  topics: string[];
  events: ("message.created" | "message.updated" | "message.deleted" | "message.ephemeral" | "typing" | "user.status" | "room.changed" | "subscription.changed" | "notification" | "session.unauthorized" | "outbound.sent" | "outbound.failed" | "webhook.disabled" | "webhook.test")[];
  /** The content filter (canonical form), or null. */
  filter: ContentFilter | null;
  description: string;
  enabled: boolean;
  disabledReason: ("manual" | "failures" | "gone") | null;
  disabledAt: string | null;
  consecutiveFailures: number;
  createdAt: string;
  updatedAt: string;
  secretRotatedAt: string | null;
  previousSecretExpiresAt: string | null;
  format: "gateway" | "rocketchat";
  /** Names of the custom request headers (values are never shown). */
  headers: string[];
};

/** A webhook as the API shows it; its secret never is. */
export type Webhook = WebhookFields;

/** The new webhook and its signing secret, shown this once. */
export type WebhookCreated = WebhookFields & {
  secret: string;
  /** Format `rocketchat`: its token, shown this once. */
  token?: string;
};

/** The changed webhook; `token` when the change made one (switching to `rocketchat`). */
export type WebhookChanged = WebhookFields & {
  token?: string;
};

export type WebhookList = {
  webhooks: Webhook[];
  nextCursor: NextCursor;
};

export type RotatedSecret = {
  secret: string;
  previousSecretExpiresAt: string;
};

export type TestEventQueued = {
  eventId: string;
};

export type WebhookStats = {
  /** Attempts since the webhook was created. */
  attempts: {
    total: number;
    succeeded: number;
    failed: number;
  };
  successRate: number | null;
  lastSuccessAt: string | null;
  lastError: {
    at: string;
    error: string;
    statusCode: number | null;
  } | null;
  /** Deliveries waiting for an attempt or a retry; dead letters waiting for a replay. */
  backlog: {
    pending: number;
    deadLetters: number;
  };
  consecutiveFailures: number;
};

export type ResendQueued = {
  eventId: string;
  jobId: string;
};

export type Delivery = {
  eventId: string;
  eventType: string;
  attempt: number;
  at: string;
  statusCode: number | null;
  durationMs: number;
  outcome: "success" | "http_error" | "timeout" | "network_error" | "blocked";
  error: string | null;
  nextAttemptAt: string | null;
  /** Format `rocketchat`: the outbound job posting the reply (`GET /v1/messages/{id}`). */
  replyJobId?: string;
  /** Format `rocketchat`: why the reply asked for was not posted. */
  replyError?: string;
};

export type DeliveryList = {
  deliveries: Delivery[];
  nextCursor: NextCursor;
};

export type ReplayQueued = {
  enqueued: number;
};

/** An outbound change (send, edit, delete, reaction) and its outcome. */
export type OutboundJob = {
  /** The job id (from `Idempotency-Key` when given). */
  id: string;
  /** The Rocket.Chat message id, fixed before the first attempt. */
  messageId: string;
  status: "queued" | "sent" | "failed";
  error?: {
    code: "GW_ERR_VALIDATION" | "GW_ERR_TOPIC_INVALID" | "GW_ERR_WEBHOOK_TARGET_FORBIDDEN" | "GW_ERR_UNAUTHENTICATED" | "GW_ERR_NO_CREDENTIALS" | "GW_ERR_CREDENTIALS_INVALID" | "GW_ERR_FORBIDDEN" | "GW_ERR_NOT_FOUND" | "GW_ERR_METHOD_NOT_ALLOWED" | "GW_ERR_CONFLICT" | "GW_ERR_PAYLOAD_TOO_LARGE" | "GW_ERR_UNSUPPORTED_MEDIA_TYPE" | "GW_ERR_RATE_LIMITED" | "GW_ERR_INTERNAL" | "GW_ERR_CONFIG" | "GW_ERR_UPSTREAM" | "GW_ERR_UPSTREAM_UNAVAILABLE" | "GW_ERR_SESSION_CAPACITY" | "GW_ERR_DRAINING" | "GW_ERR_UPSTREAM_TIMEOUT" | "GW_ERR_FORWARD_TIMEOUT";
    message: string;
    upstreamError?: string | number;
  };
};

export type MethodResult = {
  /** Rocket.Chat's result. A falsy one (`false`, `0`, `""`, `null`, or none at all) is always `null`, except `false` for `loadHistory` and `loadMissedMessages`: Rocket.Chat's ddp-streamer sends no result at all for any of them, so the gateway cannot tell them apart and answers the same for both of Rocket.Chat's DDP servers. */
  result: unknown;
};

export type HookFields = {
  id: string;
  roomId: string;
  alias?: string;
  emoji?: string;
  avatar?: string;
  description: string;
  enabled: boolean;
  /** Posts must carry a Standard Webhooks signature. */
  signed: boolean;
  /** Posts may name another room in `channel`. */
  allowChannelOverride: boolean;
  createdAt: string;
  updatedAt: string;
  tokenRotatedAt?: string;
};

/** An incoming hook as the API shows it; its token and signing secret never are. */
export type Hook = HookFields;

/** The new hook and its URL (`<PUBLIC_URL>/hooks/<id>/<token>`), shown this once. */
export type HookCreated = HookFields & {
  url: string;
};

/** The hook URL with its new token, shown this once; the old URL no longer works. */
export type HookUrl = {
  url: string;
};

export type HookList = {
  hooks: Hook[];
  nextCursor: NextCursor;
};

export type HookRequestList = {
  /** Recent posts to the hook, newest first (at most 100 are kept). */
  requests: {
    at: string;
    /** The HTTP status the sender got. */
    status: number;
    /** The outbound job (`GET /v1/messages/{id}`), when accepted. */
    jobId?: string;
    messageId?: string;
    roomId?: string;
    /** Why the post was refused. */
    error?: {
      code: string;
      message: string;
    };
    /** What became of the message, while its job is kept. */
    outcome?: {
      status: "queued" | "sent" | "failed";
      error?: Record<string, unknown>;
    };
  }[];
  nextCursor: NextCursor;
};

/** Every operation of the document: its id, HTTP method and path template. */
export const OPERATIONS = {
  getHealth: { method: 'GET', path: "/healthz" },
  getReadiness: { method: 'GET', path: "/readyz" },
  getMetrics: { method: 'GET', path: "/metrics" },
  getOpenApi: { method: 'GET', path: "/openapi.json" },
  createSession: { method: 'POST', path: "/v1/sessions" },
  deleteSession: { method: 'DELETE', path: "/v1/sessions" },
  createSseToken: { method: 'POST', path: "/v1/sessions/sse-token" },
  createEventsCookie: { method: 'POST', path: "/v1/events/cookie" },
  deleteEventsCookie: { method: 'DELETE', path: "/v1/events/cookie" },
  streamEvents: { method: 'GET', path: "/v1/events" },
  listEventTypes: { method: 'GET', path: "/v1/event-types" },
  listWebhooks: { method: 'GET', path: "/v1/webhooks" },
  createWebhook: { method: 'POST', path: "/v1/webhooks" },
  getWebhook: { method: 'GET', path: "/v1/webhooks/{id}" },
  updateWebhook: { method: 'PATCH', path: "/v1/webhooks/{id}" },
  deleteWebhook: { method: 'DELETE', path: "/v1/webhooks/{id}" },
  rotateWebhookSecret: { method: 'POST', path: "/v1/webhooks/{id}/rotate-secret" },
  testWebhook: { method: 'POST', path: "/v1/webhooks/{id}/test" },
  listWebhookDeliveries: { method: 'GET', path: "/v1/webhooks/{id}/deliveries" },
  getWebhookStats: { method: 'GET', path: "/v1/webhooks/{id}/stats" },
  resendWebhookEvent: { method: 'POST', path: "/v1/webhooks/{id}/resend" },
  replayWebhook: { method: 'POST', path: "/v1/webhooks/{id}/replay" },
  sendMessage: { method: 'POST', path: "/v1/messages" },
  getMessage: { method: 'GET', path: "/v1/messages/{id}" },
  editMessage: { method: 'PATCH', path: "/v1/messages/{id}" },
  deleteMessage: { method: 'DELETE', path: "/v1/messages/{id}" },
  reactToMessage: { method: 'POST', path: "/v1/messages/{id}/reactions" },
  callMethod: { method: 'POST', path: "/v1/methods/{name}" },
  listHooks: { method: 'GET', path: "/v1/hooks" },
  createHook: { method: 'POST', path: "/v1/hooks" },
  getHook: { method: 'GET', path: "/v1/hooks/{id}" },
  updateHook: { method: 'PATCH', path: "/v1/hooks/{id}" },
  deleteHook: { method: 'DELETE', path: "/v1/hooks/{id}" },
  rotateHookToken: { method: 'POST', path: "/v1/hooks/{id}/rotate-token" },
  listHookRequests: { method: 'GET', path: "/v1/hooks/{id}/requests" },
  postToHook: { method: 'POST', path: "/hooks/{id}/{token}" },
} as const;

export type OperationId = keyof typeof OPERATIONS;
