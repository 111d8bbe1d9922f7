/**
 * The shape of every event the gateway emits, once, as zod schemas: the OpenAPI document
 * (src/openapi/events.ts, `Event` and one component per type) and the catalogue at
 * `GET /v1/event-types` are both generated from here with zod's `z.toJSONSchema`, so they cannot
 * disagree. A `Record` over `GatewayEventType`: a new type without a schema does not compile.
 *
 * What the gateway builds itself (the envelope, typing, presence, outbound and webhook events)
 * is described exactly; Rocket.Chat's own objects (messages, rooms, subscriptions,
 * notifications) name the fields the gateway and clients rely on and allow the rest, because
 * Rocket.Chat adds fields from version to version. Dates are ISO-8601 strings (EJSON decoded).
 */
import { z } from 'zod';
import { EVENT_TYPES, type GatewayEventType } from './types.js';

const isoDate = z.string().describe('ISO-8601 date-time');

const userRef = z
  .looseObject({ _id: z.string(), username: z.string().optional(), name: z.string().optional() })
  .describe('A Rocket.Chat user reference');

const message = z
  .looseObject({
    _id: z.string().describe('The message id'),
    rid: z.string().optional().describe('The room id'),
    msg: z.string().optional().describe('The text'),
    t: z.string().optional().describe('The message type (`uj`, `rm`, ...); absent for an ordinary message'),
    u: userRef.optional().describe('The sender'),
    ts: isoDate.optional(),
    _updatedAt: isoDate.optional(),
    editedAt: isoDate.optional(),
    tmid: z.string().optional().describe('The thread (its root message id)'),
    mentions: z.array(userRef).optional().describe('Mentioned users (`all` and `here` for group mentions)'),
  })
  .describe("A Rocket.Chat message, as Rocket.Chat's stream sends it");

const bulkDeletion = z
  .looseObject({
    rid: z.string(),
    bulk: z.literal(true),
  })
  .describe("Several messages deleted at once: Rocket.Chat's query (`ids`, or a time range and `users`)");

const outboundData = (status: 'sent' | 'failed') =>
  z.strictObject({
    id: z.string().describe('The outbound job id (`GET /v1/messages/{id}`)'),
    messageId: z.string(),
    kind: z.enum(['send', 'edit', 'delete', 'reaction']),
    status: z.literal(status),
    ...(status === 'failed'
      ? {
          error: z.strictObject({
            code: z.string().describe('A `GW_ERR_*` code (docs/errors.md)'),
            message: z.string(),
            upstreamError: z.union([z.string(), z.number()]).optional(),
          }),
        }
      : {}),
    message: z
      .looseObject({})
      .optional()
      .describe('The message as Rocket.Chat stored it, when it answered one'),
  });

/** What each event type carries in `data`, with the one-line description the catalogue shows. */
export const EVENT_DATA_SCHEMAS: Readonly<Record<GatewayEventType, z.ZodType>> = {
  'message.created': message.describe('A new message in a room'),
  'message.updated': message.describe(
    'A message changed: edited, reacted to, pinned, starred, a thread reply',
  ),
  'message.deleted': z
    .union([message, bulkDeletion])
    .describe(
      'A message deleted: the whole message (`t: "rm"`), `{_id, rid, _deletedAt?}`, or a bulk deletion',
    ),
  'message.ephemeral': message.describe('A private message from rocket.cat to this user only, never stored'),
  typing: z
    .strictObject({
      username: z.string(),
      typing: z.boolean(),
      activities: z
        .array(z.string())
        .optional()
        .describe('Rocket.Chat 6+: `user-typing`, `user-recording`, ...'),
    })
    .describe('Someone started or stopped typing in a room'),
  'user.status': z
    .strictObject({
      userId: z.string(),
      username: z.string(),
      status: z.enum(['offline', 'online', 'away', 'busy']),
      statusText: z.string(),
    })
    .describe("A user's presence changed"),
  'room.changed': z
    .strictObject({
      action: z.string().describe('`inserted`, `updated` or `removed`'),
      room: z.looseObject({ _id: z.string() }),
    })
    .describe('A room the user is in was created, changed or removed'),
  'subscription.changed': z
    .strictObject({
      action: z.string().describe('`inserted`, `updated` or `removed`'),
      subscription: z.looseObject({ _id: z.string(), rid: z.string().optional() }),
    })
    .describe("The user's subscription to a room changed (unread counts, alerts, ...)"),
  notification: z
    .looseObject({
      title: z.string().optional(),
      text: z.string().optional(),
      payload: z.looseObject({ _id: z.string().optional(), rid: z.string().optional() }).optional(),
    })
    .describe('A desktop notification for the user (a direct message or a mention)'),
  'session.unauthorized': z
    .strictObject({
      reason: z.string().describe('`force_logout`, `logout`, or why the token stopped working'),
    })
    .describe("The user's Rocket.Chat session ended; streams end after this event"),
  'outbound.sent': outboundData('sent').describe(
    'A queued send, edit, deletion or reaction reached Rocket.Chat',
  ),
  'outbound.failed': outboundData('failed').describe(
    'A queued send, edit, deletion or reaction failed for good',
  ),
  'webhook.disabled': z
    .strictObject({
      webhookId: z.string(),
      reason: z.enum(['manual', 'failures', 'gone']),
      consecutiveFailures: z.number().int().nonnegative(),
      lastError: z.string().nullable(),
      disabledAt: isoDate,
    })
    .describe("One of the user's webhooks was disabled (too many failures, or the receiver answered 410)"),
  'webhook.test': z
    .strictObject({ webhookId: z.string(), message: z.string() })
    .describe('`POST /v1/webhooks/{id}/test`: sent to that endpoint only, never logged'),
};

/** The envelope of one event type: the same bytes as SSE `data:` and a webhook body. */
export function eventEnvelopeSchema(type: GatewayEventType): z.ZodType {
  const data = EVENT_DATA_SCHEMAS[type];
  return z
    .strictObject({
      id:
        type === 'webhook.test'
          ? z
              .string()
              .regex(/^test_/)
              .describe('`test_<uuid>`: test events are not in the log')
          : z
              .string()
              .regex(/^\d+-\d+$/)
              .describe('The event log id (`<ms>-<seq>`); resume with `Last-Event-ID`'),
      type: z.literal(type),
      userId: z.string().describe('Whose session saw the event'),
      roomId: z.string().optional(),
      // `format` only: zod's own date-time check would add a long regex to every schema.
      ts: z.string().meta({ format: 'date-time', description: 'When the gateway received it (ISO-8601)' }),
      data,
    })
    .describe(data.description ?? type);
}

/** JSON Schema (2020-12) of one type's envelope, without `$schema` (for embedding). */
export function eventJsonSchema(type: GatewayEventType): Record<string, unknown> {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(eventEnvelopeSchema(type), {
    target: 'draft-2020-12',
  }) as Record<string, unknown>;
  return schema;
}

export interface EventTypeEntry {
  readonly type: GatewayEventType;
  readonly description: string;
  readonly schema: Record<string, unknown>;
}

/** Every event type with its description and envelope schema, in `EVENT_TYPES` order. */
export function eventCatalogue(): EventTypeEntry[] {
  return EVENT_TYPES.map((type) => ({
    type,
    description: EVENT_DATA_SCHEMAS[type].description ?? type,
    schema: eventJsonSchema(type),
  }));
}

/** `message.created` -> `MessageCreatedEvent`: the OpenAPI component name of a type's envelope. */
export function eventComponentName(type: GatewayEventType): string {
  return `${type
    .split('.')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('')}Event`;
}
