/**
 * Generated from the gateway's OpenAPI document by packages/client/scripts/generate-types.ts.
 * Do not edit: run `npm run generate --prefix packages/client` after changing src/http/openapi.ts.
 */

/** The body of every error response. Branch on `error`, never on `message` (docs/errors.md). */
export type Error = {
  error: "GW_ERR_VALIDATION" | "GW_ERR_TOPIC_INVALID" | "GW_ERR_WEBHOOK_TARGET_FORBIDDEN" | "GW_ERR_UNAUTHENTICATED" | "GW_ERR_NO_CREDENTIALS" | "GW_ERR_CREDENTIALS_INVALID" | "GW_ERR_FORBIDDEN" | "GW_ERR_NOT_FOUND" | "GW_ERR_METHOD_NOT_ALLOWED" | "GW_ERR_CONFLICT" | "GW_ERR_PAYLOAD_TOO_LARGE" | "GW_ERR_UNSUPPORTED_MEDIA_TYPE" | "GW_ERR_RATE_LIMITED" | "GW_ERR_INTERNAL" | "GW_ERR_CONFIG" | "GW_ERR_UPSTREAM" | "GW_ERR_UPSTREAM_UNAVAILABLE" | "GW_ERR_SESSION_CAPACITY" | "GW_ERR_DRAINING" | "GW_ERR_UPSTREAM_TIMEOUT" | "GW_ERR_FORWARD_TIMEOUT";
  message: string;
  /** When waiting helps; the response also has `Retry-After` (seconds). */
  retryAfterMs?: number;
  /** Structured facts, e.g. the fields that failed validation. */
  details?: Record<string, unknown>;
};

export type Probe = {
  status: "ok" | "unavailable";
  /** Why the replica is not ready (Redis, draining). */
  reason?: string;
};

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

/** One gateway event: the `data:` of an SSE frame and the body of a webhook delivery, byte for byte. */
export type Event = {
  /** Event log id; resume with `Last-Event-ID`. */
  id: string;
  type: "message.created" | "message.updated" | "message.deleted" | "message.ephemeral" | "typing" | "user.status" | "room.changed" | "subscription.changed" | "notification" | "session.unauthorized" | "outbound.sent" | "outbound.failed" | "webhook.disabled" | "webhook.test";
  /** Whose session saw the event. */
  userId: string;
  roomId?: string;
  ts: string;
  /** Rocket.Chat's own object, EJSON dates as ISO-8601 strings. */
  data: unknown;
};

export type WebhookCreate = {
  url: string;
  topics: StringList;
  events?: StringList;
  description?: string;
};

export type WebhookUpdate = {
  url?: string;
  topics?: StringList;
  events?: StringList;
  description?: string;
  /** `true` re-enables a disabled webhook and resets its failures. */
  enabled?: boolean;
};

/** An array of strings, or one comma-separated string. */
export type StringList = string | string[];

export type WebhookFields = {
  id: string;
  url: string;
  topics: string[];
  events: ("message.created" | "message.updated" | "message.deleted" | "message.ephemeral" | "typing" | "user.status" | "room.changed" | "subscription.changed" | "notification" | "session.unauthorized" | "outbound.sent" | "outbound.failed" | "webhook.disabled" | "webhook.test")[];
  description: string;
  enabled: boolean;
  disabledReason: ("manual" | "failures" | "gone") | null;
  disabledAt: string | null;
  consecutiveFailures: number;
  createdAt: string;
  updatedAt: string;
  secretRotatedAt: string | null;
  previousSecretExpiresAt: string | null;
};

/** A webhook as the API shows it; its secret never is. */
export type Webhook = WebhookFields;

/** The new webhook and its signing secret, shown this once. */
export type WebhookCreated = WebhookFields & {
  secret: string;
};

export type WebhookList = {
  webhooks: Webhook[];
};

export type RotatedSecret = {
  secret: string;
  previousSecretExpiresAt: string;
};

export type TestEventQueued = {
  eventId: string;
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
};

export type DeliveryList = {
  deliveries: Delivery[];
};

export type ReplayRequest = {
  since: string | number;
  until?: string | number;
};

export type ReplayQueued = {
  enqueued: number;
};

export type MessageSend = {
  roomId: string;
  text: string;
  threadId?: string;
  alias?: string;
  emoji?: string;
  attachments?: Record<string, unknown>[];
};

export type MessageEdit = {
  text: string;
};

export type Reaction = {
  emoji: string;
  shouldReact?: boolean;
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

export type MethodCall = {
  params?: unknown[];
};

export type MethodResult = {
  /** Rocket.Chat's result. A falsy one (`false`, `0`, `""`, `null`, or none at all) is always `null`, except `false` for `loadHistory` and `loadMissedMessages`: Rocket.Chat's ddp-streamer sends no result at all for any of them, so the gateway cannot tell them apart and answers the same for both of Rocket.Chat's DDP servers. */
  result: unknown;
};

export type HookCreate = {
  /** Where posts go unless they name a `channel`; the owner must be able to see it. */
  roomId: string;
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
  roomId?: string;
  alias?: string | null;
  emoji?: string | null;
  avatar?: string | null;
  description?: string;
  signingSecret?: string | null;
  /** `false`: posts are refused with 403 until re-enabled. */
  enabled?: boolean;
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
  tmid?: string;
  attachments?: Record<string, unknown>[];
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
  listWebhooks: { method: 'GET', path: "/v1/webhooks" },
  createWebhook: { method: 'POST', path: "/v1/webhooks" },
  getWebhook: { method: 'GET', path: "/v1/webhooks/{id}" },
  updateWebhook: { method: 'PATCH', path: "/v1/webhooks/{id}" },
  deleteWebhook: { method: 'DELETE', path: "/v1/webhooks/{id}" },
  rotateWebhookSecret: { method: 'POST', path: "/v1/webhooks/{id}/rotate-secret" },
  testWebhook: { method: 'POST', path: "/v1/webhooks/{id}/test" },
  listWebhookDeliveries: { method: 'GET', path: "/v1/webhooks/{id}/deliveries" },
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
