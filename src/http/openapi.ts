/**
 * The OpenAPI 3.1 description of the whole HTTP surface, served at `/openapi.json`. Written by
 * hand as data (no decorators), so it reads as the contract it is, except what has a zod schema
 * in code: the events (src/events/event-schemas.ts, also served at `GET /v1/event-types`) and
 * the content filter (src/events/content-filter.ts) are generated from it with `z.toJSONSchema`;
 * `test/integration/openapi-*.test.ts` keeps it honest by validating real responses of the
 * running app against these schemas, and fails when a route is missing here.
 *
 * Schemas are JSON Schema 2020-12 (OpenAPI 3.1's dialect). Lists that exist in code are taken
 * from it, never copied: error codes (`src/errors.ts`), event types (`src/events/types.ts`),
 * callable methods (`src/rocketchat/method-catalogue.ts`).
 */
import { z } from 'zod';
import { ERROR_CODES } from '../errors.js';
import { contentFilterSchema } from '../events/content-filter.js';
import { eventComponentName, eventJsonSchema } from '../events/event-schemas.js';
import { EVENT_TYPES } from '../events/types.js';
import { METHOD_CATALOGUE } from '../rocketchat/method-catalogue.js';

/** The content filter's JSON Schema, from the zod schema both transports validate with. */
function contentFilterJsonSchema(): Schema {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(contentFilterSchema, { target: 'draft-2020-12' });
  return schema;
}

/** A JSON value as OpenAPI documents hold them. */
export type OpenApiDocument = Readonly<Record<string, unknown>>;

export interface OpenApiOptions {
  /** `PUBLIC_URL`: the server clients reach. */
  readonly publicUrl: string;
  /** The gateway's version (package.json). @defaultValue '0.1.0' */
  readonly version?: string;
}

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
/** A JSON body: its schema, and the schema's example from `EXAMPLES` unless one is given. */
const jsonContent = (schema: Schema, example?: unknown): Schema => {
  const name = refName(schema);
  const shown = example ?? (name === undefined ? undefined : EXAMPLES[name]);
  return { 'application/json': { schema, ...(shown === undefined ? {} : { example: shown }) } };
};
const jsonResponse = (description: string, schema: Schema, headers?: Schema, example?: unknown): Schema => ({
  description,
  content: jsonContent(schema, example),
  ...(headers ? { headers } : {}),
});
const errorRef = (name: string): Schema => ({ $ref: `#/components/responses/${name}` });
const param = (name: string): Schema => ({ $ref: `#/components/parameters/${name}` });
const isoDateTime: Schema = { type: 'string', format: 'date-time' };
const nullable = (schema: Schema): Schema => ({ oneOf: [schema, { type: 'null' }] });

/** The errors every authenticated, rate-limited route may answer. */
const AUTHENTICATED_ERRORS: Schema = {
  '401': errorRef('Unauthenticated'),
  '429': errorRef('RateLimited'),
  '503': errorRef('Unavailable'),
  default: errorRef('Error'),
};

/** Gateway JWT, or Rocket.Chat's own `X-User-Id` + `X-Auth-Token` pair. */
const AUTHENTICATED: readonly Schema[] = [
  { bearerAuth: [] },
  { rocketchatUserId: [], rocketchatAuthToken: [] },
];

const RATE_LIMIT_HEADERS: Schema = {
  'RateLimit-Limit': { $ref: '#/components/headers/RateLimit-Limit' },
  'RateLimit-Remaining': { $ref: '#/components/headers/RateLimit-Remaining' },
  'RateLimit-Reset': { $ref: '#/components/headers/RateLimit-Reset' },
};

const SCHEMAS: Record<string, Schema> = {
  Error: {
    type: 'object',
    description: 'The body of every error response. Branch on `error`, never on `message` (docs/errors.md).',
    required: ['error', 'message'],
    properties: {
      error: { type: 'string', enum: Object.keys(ERROR_CODES) },
      message: { type: 'string' },
      retryAfterMs: {
        type: 'integer',
        minimum: 0,
        description: 'When waiting helps; the response also has `Retry-After` (seconds).',
      },
      details: {
        type: 'object',
        description:
          'Structured facts. A `GW_ERR_VALIDATION` from a schema check lists the bad fields in `fields`; an error from Rocket.Chat carries its code in `upstreamError`.',
        properties: {
          fields: {
            type: 'array',
            maxItems: 10,
            items: {
              type: 'object',
              required: ['field', 'message'],
              properties: {
                field: {
                  type: 'string',
                  description: 'Dotted path into the input (`topics.0`); `(body)` for the input as a whole.',
                },
                message: { type: 'string' },
              },
              additionalProperties: false,
            },
          },
          upstreamError: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
          upstreamReason: { type: 'string' },
        },
      },
    },
    additionalProperties: false,
  },
  Probe: {
    type: 'object',
    required: ['status'],
    properties: {
      status: { type: 'string', enum: ['ok', 'unavailable'] },
      reason: { type: 'string', description: 'Why the replica is not ready (Redis, draining).' },
    },
    additionalProperties: false,
  },
  SessionCreated: {
    type: 'object',
    required: ['token', 'userId', 'username', 'expiresAt'],
    properties: {
      token: { type: 'string', description: 'Gateway access token: `Authorization: Bearer <token>`.' },
      userId: { type: 'string' },
      username: { type: 'string' },
      expiresAt: isoDateTime,
    },
    additionalProperties: false,
  },
  SseToken: {
    type: 'object',
    required: ['token', 'expiresAt'],
    properties: {
      token: { type: 'string', description: 'Only valid as `GET /v1/events?access_token=`.' },
      expiresAt: isoDateTime,
    },
    additionalProperties: false,
  },
  EventsCookie: {
    type: 'object',
    required: ['expiresAt'],
    properties: { expiresAt: { ...isoDateTime, description: 'When the cookie and its token end.' } },
    additionalProperties: false,
  },
  Event: {
    description:
      'One gateway event: the `data:` of an SSE frame and the body of a webhook delivery, byte for byte. `type` says which of the shapes below it is; `GET /v1/event-types` serves the same schemas.',
    oneOf: EVENT_TYPES.map((type) => ref(eventComponentName(type))),
    discriminator: {
      propertyName: 'type',
      mapping: Object.fromEntries(
        EVENT_TYPES.map((type) => [type, `#/components/schemas/${eventComponentName(type)}`]),
      ),
    },
  },
  ...Object.fromEntries(EVENT_TYPES.map((type) => [eventComponentName(type), eventJsonSchema(type)])),
  EventTypeCatalogue: {
    type: 'object',
    required: ['eventTypes'],
    properties: {
      eventTypes: {
        type: 'array',
        items: {
          type: 'object',
          required: ['type', 'description', 'schema'],
          properties: {
            type: { type: 'string', enum: [...EVENT_TYPES] },
            description: { type: 'string' },
            schema: {
              type: 'object',
              description: "JSON Schema (2020-12) of the event's envelope, `data` included.",
            },
          },
          additionalProperties: false,
        },
      },
    },
    additionalProperties: false,
  },
  ContentFilter: contentFilterJsonSchema(),
  WebhookCreate: {
    type: 'object',
    required: ['url', 'topics'],
    properties: {
      url: { type: 'string', format: 'uri' },
      topics: { $ref: '#/components/schemas/StringList' },
      events: { $ref: '#/components/schemas/StringList' },
      description: { type: 'string', maxLength: 500 },
      filter: nullable(ref('ContentFilter')),
      format: {
        type: 'string',
        enum: ['gateway', 'rocketchat'],
        description:
          "`gateway` (default): the event envelope. `rocketchat`: the body Rocket.Chat's outgoing integration posts (`token`, `bot`, `channel_id`, `channel_name`, `message_id`, `timestamp`, `user_id`, `user_name`, `text`, `siteUrl`...), for `message.created` (and `message.updated` when listed); a 200-202 JSON reply with `text` or `attachments` is posted back into the room as the owner.",
      },
      token: {
        type: 'string',
        pattern: '^[\\x21-\\x7e]{8,256}$',
        description:
          'Format `rocketchat` only: the token put in every body, which receivers check (keep the one an existing receiver expects). Generated when absent; shown only in the answer that sets it.',
      },
      headers: ref('CustomHeaders'),
    },
    additionalProperties: false,
  },
  WebhookUpdate: {
    type: 'object',
    minProperties: 1,
    properties: {
      url: { type: 'string', format: 'uri' },
      topics: { $ref: '#/components/schemas/StringList' },
      events: { $ref: '#/components/schemas/StringList' },
      description: { type: 'string', maxLength: 500 },
      enabled: {
        type: 'boolean',
        description: '`true` re-enables a disabled webhook and resets its failures.',
      },
      filter: { ...nullable(ref('ContentFilter')), description: 'A new content filter; `null` removes it.' },
      format: {
        type: 'string',
        enum: ['gateway', 'rocketchat'],
        description:
          "`gateway` (default): the event envelope. `rocketchat`: the body Rocket.Chat's outgoing integration posts (`token`, `bot`, `channel_id`, `channel_name`, `message_id`, `timestamp`, `user_id`, `user_name`, `text`, `siteUrl`...), for `message.created` (and `message.updated` when listed); a 200-202 JSON reply with `text` or `attachments` is posted back into the room as the owner.",
      },
      token: {
        type: 'string',
        pattern: '^[\\x21-\\x7e]{8,256}$',
        description:
          'Format `rocketchat` only: the token put in every body, which receivers check (keep the one an existing receiver expects). Generated when absent; shown only in the answer that sets it.',
      },
      headers: ref('CustomHeaders'),
    },
    additionalProperties: false,
  },
  CustomHeaders: {
    type: 'object',
    description:
      'Request headers sent with every delivery, replacing all earlier ones (`{}` removes them). Names are HTTP tokens (stored lower-case); hop-by-hop headers, `host`, `content-*`, `expect` and the signature headers (`webhook-*`) are refused; values are visible ASCII, spaces and tabs (no CR/LF), at most 1024 characters; at most 20 headers, 8 KiB in all. Values are stored encrypted and never shown.',
    maxProperties: 20,
    propertyNames: { pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$" },
    additionalProperties: { type: 'string', maxLength: 1024 },
  },
  NextCursor: {
    description: 'Pass as `cursor` for the next page; null on the last page. Opaque.',
    oneOf: [{ type: 'string' }, { type: 'null' }],
  },
  StringList: {
    description: 'An array of strings, or one comma-separated string.',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: 200 }],
  },
  WebhookFields: {
    type: 'object',
    required: [
      'id',
      'url',
      'topics',
      'events',
      'filter',
      'description',
      'enabled',
      'disabledReason',
      'disabledAt',
      'consecutiveFailures',
      'createdAt',
      'updatedAt',
      'secretRotatedAt',
      'previousSecretExpiresAt',
      'format',
      'headers',
    ],
    properties: {
      id: { type: 'string', pattern: '^wh_[A-Za-z0-9_-]{16}$' },
      url: { type: 'string' },
      topics: { type: 'array', items: { type: 'string' } },
      events: { type: 'array', items: { type: 'string', enum: [...EVENT_TYPES] } },
      filter: {
        ...nullable(ref('ContentFilter')),
        description: 'The content filter (canonical form), or null.',
      },
      description: { type: 'string' },
      enabled: { type: 'boolean' },
      disabledReason: nullable({ type: 'string', enum: ['manual', 'failures', 'gone'] }),
      disabledAt: nullable(isoDateTime),
      consecutiveFailures: { type: 'integer', minimum: 0 },
      createdAt: isoDateTime,
      updatedAt: isoDateTime,
      secretRotatedAt: nullable(isoDateTime),
      previousSecretExpiresAt: nullable(isoDateTime),
      format: { type: 'string', enum: ['gateway', 'rocketchat'] },
      headers: {
        type: 'array',
        items: { type: 'string' },
        description: 'Names of the custom request headers (values are never shown).',
      },
    },
  },
  Webhook: {
    description: 'A webhook as the API shows it; its secret never is.',
    allOf: [ref('WebhookFields')],
    unevaluatedProperties: false,
  },
  WebhookCreated: {
    description: 'The new webhook and its signing secret, shown this once.',
    allOf: [
      ref('WebhookFields'),
      {
        type: 'object',
        required: ['secret'],
        properties: {
          secret: { type: 'string', pattern: '^whsec_' },
          token: { type: 'string', description: 'Format `rocketchat`: its token, shown this once.' },
        },
      },
    ],
    unevaluatedProperties: false,
  },
  WebhookChanged: {
    description: 'The changed webhook; `token` when the change made one (switching to `rocketchat`).',
    allOf: [ref('WebhookFields'), { type: 'object', properties: { token: { type: 'string' } } }],
    unevaluatedProperties: false,
  },
  WebhookList: {
    type: 'object',
    required: ['webhooks', 'nextCursor'],
    properties: { webhooks: { type: 'array', items: ref('Webhook') }, nextCursor: ref('NextCursor') },
    additionalProperties: false,
  },
  WebhookStats: {
    type: 'object',
    required: ['attempts', 'successRate', 'lastSuccessAt', 'lastError', 'backlog', 'consecutiveFailures'],
    properties: {
      attempts: {
        type: 'object',
        description: 'Attempts since the webhook was created.',
        required: ['total', 'succeeded', 'failed'],
        properties: {
          total: { type: 'integer', minimum: 0 },
          succeeded: { type: 'integer', minimum: 0 },
          failed: { type: 'integer', minimum: 0 },
        },
        additionalProperties: false,
      },
      successRate: nullable({ type: 'number', minimum: 0, maximum: 1 }),
      lastSuccessAt: nullable(isoDateTime),
      lastError: nullable({
        type: 'object',
        required: ['at', 'error', 'statusCode'],
        properties: { at: isoDateTime, error: { type: 'string' }, statusCode: nullable({ type: 'integer' }) },
        additionalProperties: false,
      }),
      backlog: {
        type: 'object',
        description: 'Deliveries waiting for an attempt or a retry; dead letters waiting for a replay.',
        required: ['pending', 'deadLetters'],
        properties: {
          pending: { type: 'integer', minimum: 0 },
          deadLetters: { type: 'integer', minimum: 0 },
        },
        additionalProperties: false,
      },
      consecutiveFailures: { type: 'integer', minimum: 0 },
    },
    additionalProperties: false,
  },
  ResendRequest: {
    type: 'object',
    required: ['eventId'],
    properties: {
      eventId: {
        type: 'string',
        description: 'An event id from the log, or of a dead letter of this webhook.',
      },
    },
    additionalProperties: false,
  },
  ResendQueued: {
    type: 'object',
    required: ['eventId', 'jobId'],
    properties: { eventId: { type: 'string' }, jobId: { type: 'string' } },
    additionalProperties: false,
  },
  RotatedSecret: {
    type: 'object',
    required: ['secret', 'previousSecretExpiresAt'],
    properties: {
      secret: { type: 'string', pattern: '^whsec_' },
      previousSecretExpiresAt: isoDateTime,
    },
    additionalProperties: false,
  },
  TestEventQueued: {
    type: 'object',
    required: ['eventId'],
    properties: { eventId: { type: 'string' } },
    additionalProperties: false,
  },
  Delivery: {
    type: 'object',
    required: [
      'eventId',
      'eventType',
      'attempt',
      'at',
      'statusCode',
      'durationMs',
      'outcome',
      'error',
      'nextAttemptAt',
    ],
    properties: {
      eventId: { type: 'string' },
      eventType: { type: 'string' },
      attempt: { type: 'integer', minimum: 1 },
      at: isoDateTime,
      statusCode: nullable({ type: 'integer' }),
      durationMs: { type: 'number', minimum: 0 },
      outcome: { type: 'string', enum: ['success', 'http_error', 'timeout', 'network_error', 'blocked'] },
      error: nullable({ type: 'string' }),
      nextAttemptAt: nullable(isoDateTime),
      replyJobId: {
        type: 'string',
        description: 'Format `rocketchat`: the outbound job posting the reply (`GET /v1/messages/{id}`).',
      },
      replyError: {
        type: 'string',
        description: 'Format `rocketchat`: why the reply asked for was not posted.',
      },
    },
    additionalProperties: false,
  },
  DeliveryList: {
    type: 'object',
    required: ['deliveries', 'nextCursor'],
    properties: { deliveries: { type: 'array', items: ref('Delivery') }, nextCursor: ref('NextCursor') },
    additionalProperties: false,
  },
  ReplayRequest: {
    type: 'object',
    required: ['since'],
    properties: {
      since: { oneOf: [isoDateTime, { type: 'integer', minimum: 0, description: 'epoch ms' }] },
      until: { oneOf: [isoDateTime, { type: 'integer', minimum: 0, description: 'epoch ms' }] },
    },
    additionalProperties: false,
  },
  ReplayQueued: {
    type: 'object',
    required: ['enqueued'],
    properties: { enqueued: { type: 'integer', minimum: 0 } },
    additionalProperties: false,
  },
  MessageSend: {
    type: 'object',
    required: ['roomId', 'text'],
    properties: {
      roomId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
      text: { type: 'string', maxLength: 5000 },
      threadId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
      alias: { type: 'string', minLength: 1, maxLength: 255 },
      emoji: { type: 'string', minLength: 1, maxLength: 255 },
      attachments: { type: 'array', items: { type: 'object' }, maxItems: 100 },
    },
    additionalProperties: false,
  },
  MessageEdit: {
    type: 'object',
    required: ['text'],
    properties: { text: { type: 'string', minLength: 1, maxLength: 5000 } },
    additionalProperties: false,
  },
  Reaction: {
    type: 'object',
    required: ['emoji'],
    properties: {
      emoji: { type: 'string', examples: [':thumbsup:'] },
      shouldReact: { type: 'boolean', default: true },
    },
    additionalProperties: false,
  },
  OutboundJob: {
    type: 'object',
    description: 'An outbound change (send, edit, delete, reaction) and its outcome.',
    required: ['id', 'messageId', 'status'],
    properties: {
      id: { type: 'string', description: 'The job id (from `Idempotency-Key` when given).' },
      messageId: {
        type: 'string',
        description: 'The Rocket.Chat message id, fixed before the first attempt.',
      },
      status: { type: 'string', enum: ['queued', 'sent', 'failed'] },
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', enum: Object.keys(ERROR_CODES) },
          message: { type: 'string' },
          upstreamError: { type: ['string', 'number'] },
        },
        additionalProperties: false,
      },
    },
    additionalProperties: false,
  },
  MethodCall: {
    type: 'object',
    properties: { params: { type: 'array', maxItems: 100, default: [] } },
    additionalProperties: false,
  },
  MethodResult: {
    type: 'object',
    required: ['result'],
    properties: {
      result: {
        description:
          "Rocket.Chat's result. A falsy one (`false`, `0`, `\"\"`, `null`, or none at all) is always `null`, except `false` for `loadHistory` and `loadMissedMessages`: Rocket.Chat's ddp-streamer sends no result at all for any of them, so the gateway cannot tell them apart and answers the same for both of Rocket.Chat's DDP servers.",
      },
    },
    additionalProperties: false,
  },
  HookCreate: {
    type: 'object',
    required: ['roomId'],
    properties: {
      roomId: {
        type: 'string',
        pattern: '^[A-Za-z0-9_-]{1,64}$',
        description: 'Where posts go unless they name a `channel`; the owner must be able to see it.',
      },
      alias: { type: 'string', minLength: 1, maxLength: 255, description: 'Default display name.' },
      emoji: { type: 'string', pattern: '^:?[\\w+-]{1,100}:?$', description: 'Default avatar emoji.' },
      avatar: { type: 'string', format: 'uri', maxLength: 2048, description: 'Default avatar URL.' },
      description: { type: 'string', maxLength: 500 },
      signingSecret: {
        type: 'string',
        pattern: '^whsec_[A-Za-z0-9+/]{32,88}={0,2}$',
        description:
          'When set, posts must be signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with this secret; never shown again.',
      },
      allowChannelOverride: {
        type: 'boolean',
        default: false,
        description:
          "`true`: a post's `channel` may name any room the owner can use (`#name`, `@username`, a room id). Otherwise posts naming another room than `roomId` are refused with 403. Set at creation only.",
      },
    },
    additionalProperties: false,
  },
  HookUpdate: {
    type: 'object',
    description: '`null` removes an optional field (`signingSecret: null`: posts need no signature).',
    properties: {
      roomId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
      alias: nullable({ type: 'string', minLength: 1, maxLength: 255 }),
      emoji: nullable({ type: 'string', pattern: '^:?[\\w+-]{1,100}:?$' }),
      avatar: nullable({ type: 'string', format: 'uri', maxLength: 2048 }),
      description: { type: 'string', maxLength: 500 },
      signingSecret: nullable({ type: 'string', pattern: '^whsec_[A-Za-z0-9+/]{32,88}={0,2}$' }),
      enabled: { type: 'boolean', description: '`false`: posts are refused with 403 until re-enabled.' },
    },
    additionalProperties: false,
  },
  HookFields: {
    type: 'object',
    required: [
      'id',
      'roomId',
      'description',
      'enabled',
      'signed',
      'allowChannelOverride',
      'createdAt',
      'updatedAt',
    ],
    properties: {
      id: { type: 'string', pattern: '^hk_[A-Za-z0-9_-]{22}$' },
      roomId: { type: 'string' },
      alias: { type: 'string' },
      emoji: { type: 'string' },
      avatar: { type: 'string' },
      description: { type: 'string' },
      enabled: { type: 'boolean' },
      signed: { type: 'boolean', description: 'Posts must carry a Standard Webhooks signature.' },
      allowChannelOverride: { type: 'boolean', description: 'Posts may name another room in `channel`.' },
      createdAt: isoDateTime,
      updatedAt: isoDateTime,
      tokenRotatedAt: isoDateTime,
    },
  },
  Hook: {
    description: 'An incoming hook as the API shows it; its token and signing secret never are.',
    allOf: [ref('HookFields')],
    unevaluatedProperties: false,
  },
  HookCreated: {
    description: 'The new hook and its URL (`<PUBLIC_URL>/hooks/<id>/<token>`), shown this once.',
    allOf: [
      ref('HookFields'),
      { type: 'object', required: ['url'], properties: { url: { type: 'string', format: 'uri' } } },
    ],
    unevaluatedProperties: false,
  },
  HookUrl: {
    type: 'object',
    description: 'The hook URL with its new token, shown this once; the old URL no longer works.',
    required: ['url'],
    properties: { url: { type: 'string', format: 'uri' } },
    additionalProperties: false,
  },
  HookList: {
    type: 'object',
    required: ['hooks', 'nextCursor'],
    properties: { hooks: { type: 'array', items: ref('Hook') }, nextCursor: ref('NextCursor') },
    additionalProperties: false,
  },
  HookRequestList: {
    type: 'object',
    required: ['requests', 'nextCursor'],
    properties: {
      requests: {
        type: 'array',
        description: 'Recent posts to the hook, newest first (at most 100 are kept).',
        items: {
          type: 'object',
          required: ['at', 'status'],
          properties: {
            at: isoDateTime,
            status: { type: 'integer', description: 'The HTTP status the sender got.' },
            jobId: {
              type: 'string',
              description: 'The outbound job (`GET /v1/messages/{id}`), when accepted.',
            },
            messageId: { type: 'string' },
            roomId: { type: 'string' },
            error: {
              type: 'object',
              description: 'Why the post was refused.',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' } },
              additionalProperties: false,
            },
            outcome: {
              type: 'object',
              description: 'What became of the message, while its job is kept.',
              required: ['status'],
              properties: {
                status: { type: 'string', enum: ['queued', 'sent', 'failed'] },
                error: { type: 'object' },
              },
              additionalProperties: false,
            },
          },
          additionalProperties: false,
        },
      },
      nextCursor: ref('NextCursor'),
    },
    additionalProperties: false,
  },
  IncomingHookPayload: {
    type: 'object',
    description:
      "Rocket.Chat's incoming-webhook payload; Slack's names (`username`, `icon_emoji`, `icon_url`) work too, and other keys are ignored. `text` may be empty only with `attachments`.",
    properties: {
      text: { type: 'string', maxLength: 5000 },
      msg: { type: 'string', maxLength: 5000, description: 'Same as `text`.' },
      channel: {
        description:
          '`#name`, `@username` (direct message) or a room id; the hook room when absent. Only hooks created with `allowChannelOverride: true` accept another room than their own (403 otherwise); then Rocket.Chat decides whether the owner may use it.',
        oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 1 }],
      },
      roomId: { type: 'string', description: 'Same as `channel`.' },
      alias: { type: 'string', maxLength: 255 },
      username: { type: 'string', maxLength: 255, description: 'Slack: same as `alias`.' },
      emoji: { type: 'string', maxLength: 255 },
      icon_emoji: { type: 'string', maxLength: 255, description: 'Slack: same as `emoji`.' },
      avatar: { type: 'string', maxLength: 2048 },
      icon_url: { type: 'string', maxLength: 2048, description: 'Slack: same as `avatar`.' },
      tmid: { type: 'string', description: 'Post in this thread.' },
      attachments: { type: 'array', maxItems: 100, items: { type: 'object' } },
    },
  },
};

const EXAMPLE_TIME = '2026-01-15T09:30:00.000Z';
const EXAMPLE_WEBHOOK = {
  id: 'wh_3fKq9ZbT0aLm7XyR',
  url: 'https://backend.example.org/rocketchat-events',
  topics: ['room:GENERAL', 'user'],
  events: ['message.created', 'message.updated'],
  filter: { excludeOwn: true },
  description: 'CRM sync',
  enabled: true,
  disabledReason: null,
  disabledAt: null,
  consecutiveFailures: 0,
  createdAt: EXAMPLE_TIME,
  updatedAt: EXAMPLE_TIME,
  secretRotatedAt: null,
  previousSecretExpiresAt: null,
  format: 'gateway',
  headers: ['x-api-key'],
};
const EXAMPLE_HOOK = {
  id: 'hk_Vq2m8XkP0sLr4TyB9cNd1e',
  roomId: 'GENERAL',
  alias: 'CI',
  emoji: ':robot:',
  description: 'Build results',
  enabled: true,
  signed: false,
  allowChannelOverride: false,
  createdAt: EXAMPLE_TIME,
  updatedAt: EXAMPLE_TIME,
};
const EXAMPLE_JOB = { id: 'order-4711-confirmation', messageId: 'fXk3pQ9rT2vB8nLm4', status: 'queued' };

/**
 * One example body per schema, shown with every request and response that uses the schema
 * (`jsonContent`), so a reader of any operation sees a real body. Checked against the schemas
 * by `redocly lint` (no-invalid-media-type-examples) in the tests.
 */
const EXAMPLES: Readonly<Record<string, unknown>> = {
  Probe: { status: 'ok' },
  SessionCreated: {
    token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl',
    userId: 'aBcD3fGh1JkLmN0pQ',
    username: 'alice',
    expiresAt: EXAMPLE_TIME,
  },
  SseToken: { token: 'eyJhbGciOiJIUzI1NiJ9.eyJzc2UiOnRydWV9.c2ln', expiresAt: EXAMPLE_TIME },
  EventsCookie: { expiresAt: EXAMPLE_TIME },
  Event: {
    id: '1768469400000-0',
    type: 'message.created',
    userId: 'aBcD3fGh1JkLmN0pQ',
    roomId: 'GENERAL',
    ts: EXAMPLE_TIME,
    data: { _id: 'fXk3pQ9rT2vB8nLm4', rid: 'GENERAL', msg: 'hello', u: { _id: 'xYz', username: 'bob' } },
  },
  WebhookCreate: {
    url: 'https://backend.example.org/rocketchat-events',
    topics: ['room:GENERAL', 'user'],
    events: ['message.created', 'message.updated'],
    description: 'CRM sync',
    filter: { excludeOwn: true },
  },
  WebhookUpdate: { topics: 'room:GENERAL', enabled: true },
  Webhook: EXAMPLE_WEBHOOK,
  WebhookChanged: EXAMPLE_WEBHOOK,
  WebhookCreated: { ...EXAMPLE_WEBHOOK, secret: 'whsec_MfKQ9r33DcAzdfN9Ve8FyAUrNfXz1qBf' },
  WebhookList: { webhooks: [EXAMPLE_WEBHOOK], nextCursor: null },
  WebhookStats: {
    attempts: { total: 120, succeeded: 117, failed: 3 },
    successRate: 0.975,
    lastSuccessAt: EXAMPLE_TIME,
    lastError: { at: '2026-01-15T09:12:00.000Z', error: 'HTTP 503', statusCode: 503 },
    backlog: { pending: 2, deadLetters: 0 },
    consecutiveFailures: 0,
  },
  ResendRequest: { eventId: '1768469400000-0' },
  ResendQueued: { eventId: '1768469400000-0', jobId: 'wh_3fKq9ZbT0aLm7XyR.1768469400000-0.s1768470000000' },
  RotatedSecret: { secret: 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD', previousSecretExpiresAt: EXAMPLE_TIME },
  TestEventQueued: { eventId: '1768469400000-0' },
  DeliveryList: {
    deliveries: [
      {
        eventId: '1768469400000-0',
        eventType: 'message.created',
        attempt: 1,
        at: EXAMPLE_TIME,
        statusCode: 200,
        durationMs: 84,
        outcome: 'success',
        error: null,
        nextAttemptAt: null,
      },
    ],
    nextCursor: 'eyJsIjoiZGVsaXZlcmllcyIsInAiOls0MV19',
  },
  ReplayRequest: { since: '2026-01-15T00:00:00.000Z', until: EXAMPLE_TIME },
  ReplayQueued: { enqueued: 42 },
  EventTypeCatalogue: {
    eventTypes: [
      {
        type: 'typing',
        description: 'Someone started or stopped typing in a room',
        schema: { type: 'object', properties: { type: { type: 'string', const: 'typing' } } },
      },
    ],
  },
  ContentFilter: { excludeOwn: true, mentionsMe: true },
  MessageSend: { roomId: 'GENERAL', text: 'Your order 4711 has shipped.' },
  MessageEdit: { text: 'Your order 4711 has shipped (tracking: 1Z999).' },
  Reaction: { emoji: ':thumbsup:', shouldReact: true },
  OutboundJob: EXAMPLE_JOB,
  MethodCall: { params: [] },
  MethodResult: { result: { update: [], remove: [] } },
  HookCreate: { roomId: 'GENERAL', alias: 'CI', emoji: ':robot:', description: 'Build results' },
  HookUpdate: { alias: null, enabled: false },
  Hook: EXAMPLE_HOOK,
  HookCreated: {
    ...EXAMPLE_HOOK,
    url: 'https://gateway.example.org/hooks/hk_Vq2m8XkP0sLr4TyB9cNd1e/2mX9vQ4pLr8sTz1yB6cNd3eF',
  },
  HookUrl: { url: 'https://gateway.example.org/hooks/hk_Vq2m8XkP0sLr4TyB9cNd1e/9kLm2nB7vC4xZ1qW8eR5tY3u' },
  HookList: { hooks: [EXAMPLE_HOOK], nextCursor: null },
  HookRequestList: {
    requests: [
      {
        at: EXAMPLE_TIME,
        status: 202,
        jobId: 'hk_Vq2m8XkP0sLr4TyB9cNd1e-1768469400000',
        messageId: 'fXk3pQ9rT2vB8nLm4',
        roomId: 'GENERAL',
        outcome: { status: 'sent' },
      },
    ],
    nextCursor: null,
  },
  IncomingHookPayload: { text: 'Build #812 passed', alias: 'CI', emoji: ':white_check_mark:' },
  Error: { error: 'GW_ERR_INTERNAL', message: 'Internal error' },
};

/** The name of the component schema `schema` refers to, if it is a plain `$ref`. */
function refName(schema: Schema): string | undefined {
  const target = schema['$ref'];
  return typeof target === 'string' ? target.slice(target.lastIndexOf('/') + 1) : undefined;
}

/**
 * What the probes, metrics and this document can refuse: they take no input, but Node.js refuses
 * request headers beyond its limit before the gateway sees the request.
 */
const HEADERS_TOO_LARGE: Schema = {
  description: 'Request headers larger than Node.js accepts (16 KiB by default); answered without a body',
};

const webhookIdPath = { parameters: [param('WebhookId')] };

/** `GET /v1/events` takes the `ContentFilter` fields as `filter.<field>` parameters. */
const FILTER_QUERY_PARAMETERS: readonly Schema[] = [
  {
    name: 'filter.excludeOwn',
    in: 'query',
    description: "Leave out the user's own messages.",
    schema: { type: 'boolean' },
  },
  {
    name: 'filter.mentionsMe',
    in: 'query',
    description: 'Only messages that mention the user.',
    schema: { type: 'boolean' },
  },
  {
    name: 'filter.threadId',
    in: 'query',
    description: 'Only this thread (its root message id).',
    schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
  },
  {
    name: 'filter.senders',
    in: 'query',
    description: 'Only these senders: usernames or user ids, comma-separated (at most 100).',
    schema: { type: 'string' },
  },
  {
    name: 'filter.messageTypes',
    in: 'query',
    description:
      'Only these message types (`t`), comma-separated (at most 50); `plain` for ordinary messages.',
    schema: { type: 'string' },
  },
];
const HOOK_ID_PARAM: Schema = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

const PATHS: Record<string, Schema> = {
  '/healthz': {
    get: {
      operationId: 'getHealth',
      tags: ['operations'],
      summary: 'Liveness: the process answers HTTP (never depends on Redis)',
      security: [],
      responses: { '200': jsonResponse('Alive', ref('Probe')), '431': HEADERS_TOO_LARGE },
    },
  },
  '/readyz': {
    get: {
      operationId: 'getReadiness',
      tags: ['operations'],
      summary: 'Readiness: Redis answers and the replica is not draining',
      security: [],
      responses: {
        '200': jsonResponse('Ready', ref('Probe')),
        '431': HEADERS_TOO_LARGE,
        '503': jsonResponse('Not ready; `reason` says why', ref('Probe'), undefined, {
          status: 'unavailable',
          reason: 'draining',
        }),
      },
    },
  },
  '/metrics': {
    get: {
      operationId: 'getMetrics',
      tags: ['operations'],
      summary: 'Prometheus metrics (on METRICS_PORT instead, when it is set)',
      security: [],
      responses: {
        '200': {
          description: 'Prometheus text exposition format 0.0.4',
          content: {
            'text/plain': {
              schema: { type: 'string' },
              example:
                '# HELP gateway_sse_connections Open SSE client connections\n# TYPE gateway_sse_connections gauge\ngateway_sse_connections{role="api"} 12\n',
            },
          },
        },
        '431': HEADERS_TOO_LARGE,
      },
    },
  },
  '/openapi.json': {
    get: {
      operationId: 'getOpenApi',
      tags: ['operations'],
      summary: 'This document',
      security: [],
      responses: {
        '200': jsonResponse('OpenAPI 3.1 document', { type: 'object' }, undefined, {
          openapi: '3.1.0',
          info: { title: 'Rocket.Chat realtime gateway', version: '0.1.0' },
          paths: {},
        }),
        '431': HEADERS_TOO_LARGE,
      },
    },
  },
  '/v1/sessions': {
    post: {
      operationId: 'createSession',
      tags: ['sessions'],
      summary: "Register the user's Rocket.Chat credentials and get a gateway token",
      description:
        'Send `{username, password}` (exchanged for a resume token, never stored) or `{userId, authToken}` (a Rocket.Chat resume token). The token is stored encrypted and the upstream session is shared by every consumer of the user. Failed logins are counted per client address and per account (`LOGIN_MAX_FAILURES_PER_ADDRESS`, `LOGIN_MAX_FAILURES_PER_USER`): beyond them, 429 with `Retry-After`. The answer carries `Cache-Control: no-store`.',
      security: [],
      requestBody: {
        required: true,
        content: jsonContent(
          {
            oneOf: [
              {
                type: 'object',
                required: ['username', 'password'],
                properties: { username: { type: 'string' }, password: { type: 'string' } },
                additionalProperties: false,
              },
              {
                type: 'object',
                required: ['userId', 'authToken'],
                properties: { userId: { type: 'string' }, authToken: { type: 'string' } },
                additionalProperties: false,
              },
            ],
          },
          { username: 'alice', password: 'alice-pass' },
        ),
      },
      responses: {
        '201': jsonResponse('Registered', ref('SessionCreated')),
        '400': errorRef('Invalid'),
        '401': errorRef('Unauthenticated'),
        '415': errorRef('Error'),
        '429': errorRef('RateLimited'),
        '502': errorRef('Error'),
        '503': errorRef('Unavailable'),
        default: errorRef('Error'),
      },
    },
    delete: {
      operationId: 'deleteSession',
      tags: ['sessions'],
      summary: 'Log out',
      description:
        "Ends the user's stored Rocket.Chat credential as a revoked token would: every gateway token issued for the user before (access and SSE tokens) stops working, also after a new login; SSE streams get `session.unauthorized` and end; webhook deliveries pause until the next login. A Rocket.Chat token the gateway obtained with a password is revoked upstream. The answer clears the SSE cookie (`POST /v1/events/cookie`).",
      security: AUTHENTICATED,
      responses: { '204': { description: 'Logged out' }, ...AUTHENTICATED_ERRORS },
    },
  },
  '/v1/sessions/sse-token': {
    post: {
      operationId: 'createSseToken',
      tags: ['sessions'],
      summary: 'A short-lived token for `GET /v1/events?access_token=` (browsers cannot set headers)',
      description: 'The answer carries `Cache-Control: no-store`.',
      security: AUTHENTICATED,
      responses: { '201': jsonResponse('Issued', ref('SseToken')), ...AUTHENTICATED_ERRORS },
    },
  },
  '/v1/events/cookie': {
    post: {
      operationId: 'createEventsCookie',
      tags: ['events'],
      summary: 'Set the SSE cookie: a browser EventSource authenticates without a token in its URL',
      description: [
        'Sets `gw_events`, an HttpOnly, `SameSite=Strict` cookie with `Path=/v1/events` (and `Secure` over HTTPS or with an https `PUBLIC_URL`)',
        'holding an SSE token that lives `SSE_QUERY_TOKEN_TTL_SECONDS`; call again before `expiresAt` to renew it.',
        'Only `GET /v1/events` accepts the cookie, and only when the request has no `Origin` or the gateway’s own',
        'or one listed in `CORS_ORIGINS` (`*` does not count). The cookie itself does not authenticate this call.',
        'The answer carries `Cache-Control: no-store`.',
      ].join(' '),
      security: AUTHENTICATED,
      responses: {
        '201': jsonResponse('Set', ref('EventsCookie'), {
          'Set-Cookie': {
            description:
              '`gw_events=<token>; Path=/v1/events; Max-Age=<s>; Expires=<date>; HttpOnly; SameSite=Strict[; Secure]`',
            schema: { type: 'string' },
          },
        }),
        ...AUTHENTICATED_ERRORS,
      },
    },
    delete: {
      operationId: 'deleteEventsCookie',
      tags: ['events'],
      summary: 'Clear the SSE cookie',
      description:
        'Needs no authentication (dropping a cookie grants nothing). `DELETE /v1/sessions` clears it too.',
      security: [],
      responses: {
        '204': { description: 'Cleared (`Set-Cookie` with `Max-Age=0`)' },
        '431': HEADERS_TOO_LARGE,
        '503': errorRef('Unavailable'),
        default: errorRef('Error'),
      },
    },
  },
  '/v1/events': {
    get: {
      operationId: 'streamEvents',
      tags: ['events'],
      summary: "The user's events as Server-Sent Events",
      description: [
        'Frames: `id: <event id>`, `event: <type>`, `data: <Event JSON>`. A `retry:` field comes first,',
        'comment lines (`: heartbeat`) keep proxies from closing an idle stream. Resume with the',
        '`Last-Event-ID` header (browsers send it themselves) or `?lastEventId=`. When the id is older',
        'than the log keeps, a `gap` event says so before the replay. A first connection may ask for',
        'history: `since=<ISO time>` replays what the log holds from then, `lastEventId=earliest`',
        '(or `Last-Event-ID: earliest`) all of it; a `history` event comes first,',
        '`{"since": <ISO time or null>, "firstAvailableId": <id or null>, "truncated": <bool>}`',
        '(`truncated`: the log no longer holds everything since then), then the replay, then live',
        'events. A real `Last-Event-ID` wins over `since` (a browser reconnecting to the same URL).',
        '`filter.<field>` parameters (`ContentFilter`) keep only some messages, live and replayed.',
        'A draining replica sends `reconnect` and closes: reconnect and resume on another replica.',
      ].join(' '),
      security: [...AUTHENTICATED, { accessTokenQuery: [] }, { eventsCookie: [] }],
      parameters: [
        {
          name: 'topics',
          in: 'query',
          required: true,
          description: 'Comma-separated: `room:<rid>`, `rooms`, `typing:<rid>`, `user`, `presence`.',
          schema: { type: 'string' },
          examples: { room: { value: 'room:GENERAL,user' } },
        },
        {
          name: 'types',
          in: 'query',
          description: 'Comma-separated event types to keep (default: all).',
          schema: { type: 'string' },
        },
        {
          name: 'lastEventId',
          in: 'query',
          description: 'Resume after this event id, or `earliest`: everything the log holds.',
          schema: { type: 'string', pattern: '^(\\d+-\\d+|earliest)$' },
        },
        {
          name: 'Last-Event-ID',
          in: 'header',
          schema: { type: 'string', pattern: '^(\\d+-\\d+|earliest)$' },
        },
        {
          name: 'since',
          in: 'query',
          description:
            'Replay the log from this time (ISO-8601 with a zone) before going live; one in the future is just live. Not with `lastEventId`.',
          schema: isoDateTime,
        },
        ...FILTER_QUERY_PARAMETERS,
        {
          name: 'access_token',
          in: 'query',
          description: 'An SSE token from `POST /v1/sessions/sse-token`.',
          schema: { type: 'string' },
        },
      ],
      responses: {
        '200': {
          description: 'An endless `text/event-stream`; each `data:` is an `Event`.',
          content: {
            'text/event-stream': {
              schema: {
                type: 'string',
                description: 'SSE frames; the `data:` of each event frame is an `Event` (see components).',
              },
              example:
                'retry: 3000\n\nid: 1768469400000-0\nevent: message.created\ndata: {"id":"1768469400000-0","type":"message.created","userId":"aBcD3fGh1JkLmN0pQ","roomId":"GENERAL","ts":"2026-01-15T09:30:00.000Z","data":{"msg":"hello"}}\n\n: heartbeat\n\n',
            },
          },
        },
        '400': errorRef('Invalid'),
        '403': errorRef('Forbidden'),
        ...AUTHENTICATED_ERRORS,
      },
    },
  },
  '/v1/event-types': {
    get: {
      operationId: 'listEventTypes',
      tags: ['events'],
      summary: 'Every event type with the JSON Schema of its envelope',
      description:
        'The same schemas as `Event` in this document, generated from the one place the gateway defines them. Needs no authentication.',
      security: [],
      responses: {
        '200': jsonResponse('The catalogue, in a stable order', ref('EventTypeCatalogue')),
        '431': HEADERS_TOO_LARGE,
      },
    },
  },
  '/v1/webhooks': {
    post: {
      operationId: 'createWebhook',
      tags: ['webhooks'],
      summary: "Register a URL that receives the user's events, signed (Standard Webhooks) and retried",
      security: AUTHENTICATED,
      requestBody: { required: true, content: jsonContent(ref('WebhookCreate')) },
      responses: {
        '201': jsonResponse('Created; `secret` is shown only here', ref('WebhookCreated')),
        '400': errorRef('Invalid'),
        '409': errorRef('Error'),
        ...AUTHENTICATED_ERRORS,
      },
    },
    get: {
      operationId: 'listWebhooks',
      tags: ['webhooks'],
      summary: "The user's webhooks, oldest first, a page at a time",
      security: AUTHENTICATED,
      parameters: [
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 100 } },
        {
          name: 'cursor',
          in: 'query',
          description: '`nextCursor` of the previous page (400 when it is not one).',
          schema: { type: 'string' },
        },
      ],
      responses: {
        '200': jsonResponse('The webhooks', ref('WebhookList')),
        '400': errorRef('Invalid'),
        ...AUTHENTICATED_ERRORS,
      },
    },
  },
  '/v1/webhooks/{id}': {
    ...webhookIdPath,
    get: {
      operationId: 'getWebhook',
      tags: ['webhooks'],
      summary: 'One webhook',
      security: AUTHENTICATED,
      responses: {
        '200': jsonResponse('The webhook', ref('Webhook')),
        '404': errorRef('NotFound'),
        ...AUTHENTICATED_ERRORS,
      },
    },
    patch: {
      operationId: 'updateWebhook',
      tags: ['webhooks'],
      summary: 'Change a webhook (`enabled: true` re-enables it)',
      security: AUTHENTICATED,
      requestBody: { required: true, content: jsonContent(ref('WebhookUpdate')) },
      responses: {
        '200': jsonResponse('The changed webhook', ref('WebhookChanged')),
        '400': errorRef('Invalid'),
        '404': errorRef('NotFound'),
        ...AUTHENTICATED_ERRORS,
      },
    },
    delete: {
      operationId: 'deleteWebhook',
      tags: ['webhooks'],
      summary: 'Delete a webhook',
      security: AUTHENTICATED,
      responses: { '204': { description: 'Deleted' }, '404': errorRef('NotFound'), ...AUTHENTICATED_ERRORS },
    },
  },
  '/v1/webhooks/{id}/rotate-secret': {
    ...webhookIdPath,
    post: {
      operationId: 'rotateWebhookSecret',
      tags: ['webhooks'],
      summary: 'A new secret; the old one also signs until `previousSecretExpiresAt`',
      security: AUTHENTICATED,
      responses: {
        '200': jsonResponse('Rotated', ref('RotatedSecret')),
        '404': errorRef('NotFound'),
        ...AUTHENTICATED_ERRORS,
      },
    },
  },
  '/v1/webhooks/{id}/test': {
    ...webhookIdPath,
    post: {
      operationId: 'testWebhook',
      tags: ['webhooks'],
      summary: 'Deliver a `webhook.test` event',
      security: AUTHENTICATED,
      responses: {
        '202': jsonResponse('Queued', ref('TestEventQueued')),
        '404': errorRef('NotFound'),
        '409': errorRef('Error'),
        ...AUTHENTICATED_ERRORS,
      },
    },
  },
  '/v1/webhooks/{id}/deliveries': {
    ...webhookIdPath,
    get: {
      operationId: 'listWebhookDeliveries',
      tags: ['webhooks'],
      summary: 'Recent delivery attempts, newest first, filtered and a page at a time',
      security: AUTHENTICATED,
      parameters: [
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 50 } },
        {
          name: 'cursor',
          in: 'query',
          description: '`nextCursor` of the previous page (400 when it is not one).',
          schema: { type: 'string' },
        },
        {
          name: 'status',
          in: 'query',
          description:
            'Comma-separated: `succeeded`, `failed`, or outcomes (`success`, `http_error`, `timeout`, `network_error`, `blocked`).',
          schema: { type: 'string' },
        },
        {
          name: 'event',
          in: 'query',
          description: 'Comma-separated event types (`webhook.test` included).',
          schema: { type: 'string' },
        },
        {
          name: 'since',
          in: 'query',
          description: 'Attempts at or after this time (ISO-8601 or ms since the epoch).',
          schema: { type: 'string' },
        },
        {
          name: 'until',
          in: 'query',
          description: 'Attempts at or before this time (ISO-8601 or ms since the epoch).',
          schema: { type: 'string' },
        },
      ],
      responses: {
        '200': jsonResponse('Attempts', ref('DeliveryList')),
        '400': errorRef('Invalid'),
        '404': errorRef('NotFound'),
        ...AUTHENTICATED_ERRORS,
      },
    },
  },
  '/v1/webhooks/{id}/stats': {
    ...webhookIdPath,
    get: {
      operationId: 'getWebhookStats',
      tags: ['webhooks'],
      summary: 'Delivery statistics: success rate, last success, last error, backlog',
      security: AUTHENTICATED,
      responses: {
        '200': jsonResponse('Statistics', ref('WebhookStats')),
        '404': errorRef('NotFound'),
        ...AUTHENTICATED_ERRORS,
      },
    },
  },
  '/v1/webhooks/{id}/resend': {
    ...webhookIdPath,
    post: {
      operationId: 'resendWebhookEvent',
      tags: ['webhooks'],
      summary: 'Deliver one event to this endpoint again (from the log, or its dead letter)',
      description:
        "A new delivery with the same `webhook-id`, retried like any other. The event must still be in the log and match the webhook's topics and types, or be one of its dead letters (404 otherwise).",
      security: AUTHENTICATED,
      requestBody: { required: true, content: jsonContent(ref('ResendRequest')) },
      responses: {
        '202': jsonResponse('Queued', ref('ResendQueued')),
        '400': errorRef('Invalid'),
        '404': errorRef('NotFound'),
        '409': errorRef('Error'),
        ...AUTHENTICATED_ERRORS,
      },
    },
  },
  '/v1/webhooks/{id}/replay': {
    ...webhookIdPath,
    post: {
      operationId: 'replayWebhook',
      tags: ['webhooks'],
      summary: 'Deliver the dead letters of a time range again',
      security: AUTHENTICATED,
      requestBody: { required: true, content: jsonContent(ref('ReplayRequest')) },
      responses: {
        '202': jsonResponse('Queued', ref('ReplayQueued')),
        '400': errorRef('Invalid'),
        '404': errorRef('NotFound'),
        '409': errorRef('Error'),
        ...AUTHENTICATED_ERRORS,
      },
    },
  },
  '/v1/messages': {
    post: {
      operationId: 'sendMessage',
      tags: ['messages'],
      summary: 'Queue a message; it is sent at most once, in order per user and room',
      security: AUTHENTICATED,
      parameters: [param('IdempotencyKey')],
      requestBody: { required: true, content: jsonContent(ref('MessageSend')) },
      responses: {
        '202': {
          ...jsonResponse('Accepted', ref('OutboundJob')),
          headers: {
            Location: { schema: { type: 'string' } },
            'Idempotent-Replayed': {
              description: '`true` when the `Idempotency-Key` was seen before (same job returned).',
              schema: { type: 'string', enum: ['true'] },
            },
          },
        },
        '400': errorRef('Invalid'),
        '409': errorRef('Error'),
        ...AUTHENTICATED_ERRORS,
      },
    },
  },
  '/v1/messages/{id}': {
    parameters: [param('MessageId')],
    get: {
      operationId: 'getMessage',
      tags: ['messages'],
      summary: 'The outcome of a queued change',
      security: AUTHENTICATED,
      responses: {
        '200': jsonResponse('The job', ref('OutboundJob')),
        '404': errorRef('NotFound'),
        ...AUTHENTICATED_ERRORS,
      },
    },
    patch: {
      operationId: 'editMessage',
      tags: ['messages'],
      summary: 'Queue an edit (after the message itself, in its lane)',
      security: AUTHENTICATED,
      parameters: [param('IdempotencyKey')],
      requestBody: { required: true, content: jsonContent(ref('MessageEdit')) },
      responses: {
        '202': jsonResponse('Accepted', ref('OutboundJob')),
        '400': errorRef('Invalid'),
        '404': errorRef('NotFound'),
        '409': errorRef('Error'),
        ...AUTHENTICATED_ERRORS,
      },
    },
    delete: {
      operationId: 'deleteMessage',
      tags: ['messages'],
      summary: 'Queue a deletion',
      security: AUTHENTICATED,
      parameters: [param('IdempotencyKey')],
      responses: {
        '202': jsonResponse('Accepted', ref('OutboundJob')),
        '404': errorRef('NotFound'),
        '409': errorRef('Error'),
        ...AUTHENTICATED_ERRORS,
      },
    },
  },
  '/v1/messages/{id}/reactions': {
    parameters: [param('MessageId')],
    post: {
      operationId: 'reactToMessage',
      tags: ['messages'],
      summary: 'Queue a reaction (or its removal, with `shouldReact: false`)',
      security: AUTHENTICATED,
      parameters: [param('IdempotencyKey')],
      requestBody: { required: true, content: jsonContent(ref('Reaction')) },
      responses: {
        '202': jsonResponse('Accepted', ref('OutboundJob')),
        '400': errorRef('Invalid'),
        '404': errorRef('NotFound'),
        '409': errorRef('Error'),
        ...AUTHENTICATED_ERRORS,
      },
    },
  },
  '/v1/methods/{name}': {
    post: {
      operationId: 'callMethod',
      tags: ['methods'],
      summary: 'Call an allowed Rocket.Chat method over the user’s session',
      description:
        "Names keep Rocket.Chat's spelling; slashes are sent as they are (`/v1/methods/rooms/get`). Rocket.Chat errors map to 400 (invalid), 403 (not authorized), 404 (not found), 429 (rate limited, with `Retry-After`), 503 (upstream down) and 504 (timeout); its own code is in `details.upstreamError`.",
      security: AUTHENTICATED,
      parameters: [
        {
          name: 'name',
          in: 'path',
          required: true,
          schema: { type: 'string', enum: [...METHOD_CATALOGUE.keys()] },
        },
      ],
      requestBody: { required: false, content: jsonContent(ref('MethodCall')) },
      responses: {
        '200': jsonResponse('The result', ref('MethodResult')),
        '400': errorRef('Invalid'),
        '403': errorRef('Forbidden'),
        '404': errorRef('NotFound'),
        '504': errorRef('Error'),
        ...AUTHENTICATED_ERRORS,
      },
    },
  },
  '/v1/hooks': {
    post: {
      operationId: 'createHook',
      tags: ['hooks'],
      summary: 'Create an incoming-webhook URL that posts into a room as this user',
      security: AUTHENTICATED,
      requestBody: { required: true, content: jsonContent(ref('HookCreate')) },
      responses: {
        '201': jsonResponse('Created; the URL holds a secret token, shown only here', ref('HookCreated')),
        '400': errorRef('Invalid'),
        '403': errorRef('Forbidden'),
        '404': errorRef('NotFound'),
        '409': errorRef('Error'),
        ...AUTHENTICATED_ERRORS,
      },
    },
    get: {
      operationId: 'listHooks',
      tags: ['hooks'],
      summary: "The user's incoming hooks (without their tokens), oldest first, a page at a time",
      security: AUTHENTICATED,
      parameters: [
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 100 } },
        {
          name: 'cursor',
          in: 'query',
          description: '`nextCursor` of the previous page (400 when it is not one).',
          schema: { type: 'string' },
        },
      ],
      responses: {
        '200': jsonResponse('The hooks', ref('HookList')),
        '400': errorRef('Invalid'),
        ...AUTHENTICATED_ERRORS,
      },
    },
  },
  '/v1/hooks/{id}': {
    parameters: [HOOK_ID_PARAM],
    get: {
      operationId: 'getHook',
      tags: ['hooks'],
      summary: 'One incoming hook',
      security: AUTHENTICATED,
      responses: {
        '200': jsonResponse('The hook', ref('Hook')),
        '404': errorRef('NotFound'),
        ...AUTHENTICATED_ERRORS,
      },
    },
    patch: {
      operationId: 'updateHook',
      tags: ['hooks'],
      summary: 'Change an incoming hook (room, defaults, signing secret; `enabled`)',
      security: AUTHENTICATED,
      requestBody: { required: true, content: jsonContent(ref('HookUpdate')) },
      responses: {
        '200': jsonResponse('The changed hook', ref('Hook')),
        '400': errorRef('Invalid'),
        '403': errorRef('Forbidden'),
        '404': errorRef('NotFound'),
        ...AUTHENTICATED_ERRORS,
      },
    },
    delete: {
      operationId: 'deleteHook',
      tags: ['hooks'],
      summary: 'Delete an incoming hook; its URL stops working',
      security: AUTHENTICATED,
      responses: { '204': { description: 'Deleted' }, '404': errorRef('NotFound'), ...AUTHENTICATED_ERRORS },
    },
  },
  '/v1/hooks/{id}/rotate-token': {
    parameters: [HOOK_ID_PARAM],
    post: {
      operationId: 'rotateHookToken',
      tags: ['hooks'],
      summary: 'A new URL token; the old URL stops working at once',
      security: AUTHENTICATED,
      responses: {
        '200': jsonResponse('The new URL, shown only here', ref('HookUrl')),
        '404': errorRef('NotFound'),
        ...AUTHENTICATED_ERRORS,
      },
    },
  },
  '/v1/hooks/{id}/requests': {
    parameters: [HOOK_ID_PARAM],
    get: {
      operationId: 'listHookRequests',
      tags: ['hooks'],
      summary: "Recent posts to the hook: when, the status answered, and the message's outcome",
      security: AUTHENTICATED,
      parameters: [
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 50 } },
        {
          name: 'cursor',
          in: 'query',
          description: '`nextCursor` of the previous page (400 when it is not one).',
          schema: { type: 'string' },
        },
      ],
      responses: {
        '200': jsonResponse('Newest first', ref('HookRequestList')),
        '400': errorRef('Invalid'),
        '404': errorRef('NotFound'),
        ...AUTHENTICATED_ERRORS,
      },
    },
  },
  '/hooks/{id}/{token}': {
    parameters: [
      HOOK_ID_PARAM,
      {
        name: 'token',
        in: 'path',
        required: true,
        description: 'The secret part of the hook URL (redacted in logs).',
        schema: { type: 'string' },
      },
    ],
    post: {
      operationId: 'postToHook',
      tags: ['hooks'],
      summary: 'Post a message through an incoming hook (no other authentication: the URL is the secret)',
      description:
        'Queued through the outbound queue as the hook owner; 202 as soon as the job is stored. A retry with the same `Idempotency-Key` (or, without one, the same `webhook-id`) returns the first job. An unknown id and a wrong token get the same 404. Hooks with a signing secret need a valid Standard Webhooks signature over the raw body, with a timestamp within 5 minutes (401 otherwise). Nothing is posted on any error.',
      security: [],
      parameters: [
        param('IdempotencyKey'),
        { name: 'webhook-id', in: 'header', schema: { type: 'string' } },
        { name: 'webhook-timestamp', in: 'header', schema: { type: 'string' } },
        { name: 'webhook-signature', in: 'header', schema: { type: 'string' } },
      ],
      requestBody: {
        required: true,
        content: {
          ...jsonContent(ref('IncomingHookPayload')),
          'application/x-www-form-urlencoded': {
            schema: {
              type: 'object',
              properties: {
                payload: { type: 'string', description: 'The JSON payload, as Slack sends it.' },
              },
            },
            example: { payload: '{"text":"Build #812 passed","username":"CI"}' },
          },
        },
      },
      responses: {
        '202': {
          ...jsonResponse('Queued; follow it at `GET /v1/messages/{id}` (as the owner)', ref('OutboundJob')),
          headers: {
            'Idempotent-Replayed': {
              description: '`true` when the key was seen before (same job returned).',
              schema: { type: 'string', enum: ['true'] },
            },
          },
        },
        '400': errorRef('Invalid'),
        '401': errorRef('Error'),
        '403': errorRef('Forbidden'),
        '404': errorRef('NotFound'),
        '409': errorRef('Error'),
        '413': errorRef('Error'),
        '415': errorRef('Error'),
        '429': errorRef('RateLimited'),
        '503': errorRef('Unavailable'),
        default: errorRef('Error'),
      },
    },
  },
};

const errorResponse = (description: string, example: Schema, extraHeaders: Schema = {}): Schema => ({
  description,
  headers: { ...RATE_LIMIT_HEADERS, ...extraHeaders },
  content: jsonContent(ref('Error'), example),
});

const COMPONENTS: Schema = {
  securitySchemes: {
    bearerAuth: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'The token from `POST /v1/sessions`.',
    },
    rocketchatUserId: {
      type: 'apiKey',
      in: 'header',
      name: 'X-User-Id',
      description: "Rocket.Chat's own user id; with `X-Auth-Token`, checked upstream and cached briefly.",
    },
    rocketchatAuthToken: { type: 'apiKey', in: 'header', name: 'X-Auth-Token' },
    accessTokenQuery: {
      type: 'apiKey',
      in: 'query',
      name: 'access_token',
      description: 'Only on `GET /v1/events`: a token from `POST /v1/sessions/sse-token`.',
    },
    eventsCookie: {
      type: 'apiKey',
      in: 'cookie',
      name: 'gw_events',
      description:
        'Only on `GET /v1/events`, set by `POST /v1/events/cookie`; refused (403) from an `Origin` that is neither the gateway nor in `CORS_ORIGINS`.',
    },
  },
  headers: {
    'Retry-After': {
      description: 'Seconds to wait before retrying.',
      schema: { type: 'integer', minimum: 1 },
    },
    'RateLimit-Limit': {
      description: 'Requests allowed per minute (`RATE_LIMIT_PER_MINUTE`).',
      schema: { type: 'integer' },
    },
    'RateLimit-Remaining': { description: 'Requests left now.', schema: { type: 'integer' } },
    'RateLimit-Reset': {
      description: 'Seconds until the current window closes.',
      schema: { type: 'integer' },
    },
  },
  parameters: {
    WebhookId: { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
    MessageId: {
      name: 'id',
      in: 'path',
      required: true,
      description: 'An outbound job id or a Rocket.Chat message id.',
      schema: { type: 'string' },
    },
    IdempotencyKey: {
      name: 'Idempotency-Key',
      in: 'header',
      description:
        'Makes a retried request return the first one’s job; reused with another body it is 409 `GW_ERR_CONFLICT`.',
      schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
    },
  },
  responses: {
    Error: errorResponse('An error; `error` says which (docs/errors.md)', EXAMPLES['Error'] as Schema),
    Invalid: errorResponse('The request is invalid (`GW_ERR_VALIDATION`, `GW_ERR_TOPIC_INVALID`...)', {
      error: 'GW_ERR_VALIDATION',
      message: 'text: Required',
      details: { fields: [{ field: 'text', message: 'Required' }] },
    }),
    Unauthenticated: {
      ...errorResponse('No valid credentials (`GW_ERR_UNAUTHENTICATED`, `GW_ERR_CREDENTIALS_INVALID`...)', {
        error: 'GW_ERR_UNAUTHENTICATED',
        message: 'A valid bearer token is required',
      }),
      headers: { 'WWW-Authenticate': { schema: { type: 'string' } } },
    },
    Forbidden: errorResponse('Rocket.Chat does not allow it (`GW_ERR_FORBIDDEN`)', {
      error: 'GW_ERR_FORBIDDEN',
      message: 'Rocket.Chat refused: not allowed in this room',
    }),
    NotFound: errorResponse('No such resource for this user (`GW_ERR_NOT_FOUND`)', {
      error: 'GW_ERR_NOT_FOUND',
      message: 'No such webhook',
    }),
    RateLimited: errorResponse(
      'Too many requests (`GW_ERR_RATE_LIMITED`)',
      { error: 'GW_ERR_RATE_LIMITED', message: 'Too many requests', retryAfterMs: 12000 },
      { 'Retry-After': { $ref: '#/components/headers/Retry-After' } },
    ),
    Unavailable: errorResponse(
      'Draining, or Rocket.Chat or capacity is missing; retry (`Retry-After` may say when)',
      { error: 'GW_ERR_DRAINING', message: 'This replica is shutting down; retry', retryAfterMs: 1000 },
      {
        'Retry-After': { $ref: '#/components/headers/Retry-After' },
      },
    ),
  },
  schemas: SCHEMAS,
};

/** What a webhook receiver gets (OpenAPI 3.1 `webhooks`): the same `Event` as SSE `data:`. */
const WEBHOOKS: Schema = {
  gatewayEvent: {
    post: {
      operationId: 'receiveEvent',
      summary: 'One event, delivered to a registered webhook URL',
      description:
        'Signed per the Standard Webhooks spec: HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<body>` with the webhook secret, base64 in `webhook-signature` as `v1,<sig>` (two signatures during a secret rotation). Answer 2xx within `WEBHOOK_TIMEOUT_MS`; anything else is retried on `WEBHOOK_RETRY_SCHEDULE_MS`, then dead-lettered.',
      parameters: [
        { name: 'webhook-id', in: 'header', required: true, schema: { type: 'string' } },
        { name: 'webhook-timestamp', in: 'header', required: true, schema: { type: 'string' } },
        { name: 'webhook-signature', in: 'header', required: true, schema: { type: 'string' } },
      ],
      requestBody: { required: true, content: jsonContent(ref('Event')) },
      responses: { '200': { description: 'Received (any 2xx)' } },
    },
  },
};

/**
 * `PUBLIC_URL`, or, while it is the loopback default (PUBLIC_URL unset), the relative `/`: the
 * gateway serving this document, wherever clients reach it. A `localhost` server would send every
 * client of a shared document to its own machine.
 */
function serverOf(publicUrl: string): Schema {
  const host = new URL(publicUrl).hostname;
  const loopback = host === 'localhost' || host === '[::1]' || /^127\./.test(host);
  return loopback
    ? { url: '/', description: 'The gateway serving this document (PUBLIC_URL is not set)' }
    : { url: publicUrl };
}

/** The document for a gateway reachable at `publicUrl`. */
export function createOpenApiDocument(options: OpenApiOptions): OpenApiDocument {
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info: {
      title: 'Rocket.Chat realtime gateway',
      version: options.version ?? '0.1.0',
      // package.json: UNLICENSED, i.e. no licence is granted (all rights reserved); SPDX has no
      // identifier for that, so a LicenseRef names it.
      license: { name: 'Proprietary (UNLICENSED)', identifier: 'LicenseRef-Proprietary' },
      description:
        'Rocket.Chat realtime events as Server-Sent Events and signed webhooks, and REST sending and method calls, without speaking DDP. Every error has the body `{error, message}` (docs/errors.md). Authenticated routes are rate limited per user (`RATE_LIMIT_PER_MINUTE`).',
    },
    servers: [serverOf(options.publicUrl)],
    security: AUTHENTICATED,
    tags: [
      { name: 'sessions', description: 'Register Rocket.Chat credentials, get tokens' },
      { name: 'events', description: 'The SSE stream' },
      { name: 'webhooks', description: 'Outgoing webhooks: events pushed to your URL' },
      { name: 'messages', description: 'Queued outbound messages' },
      { name: 'methods', description: 'Synchronous Rocket.Chat method calls' },
      { name: 'hooks', description: 'Incoming webhooks: post into a room from anywhere' },
      { name: 'operations', description: 'Probes, metrics, this document' },
    ],
    paths: PATHS,
    webhooks: WEBHOOKS,
    components: COMPONENTS,
  };
}
