/**
 * The body of `POST /hooks/:id/:token`, as Rocket.Chat's incoming webhooks read it
 * (processWebhookMessage): `text` (or `msg`), `channel` (`#name`, `@username`, a room id; or
 * `roomId`), `alias` (Slack: `username`), `emoji` (Slack: `icon_emoji`), `avatar` (Slack:
 * `icon_url`), `attachments`, `tmid`. It comes as JSON, or Slack-style as a form with
 * `payload=<json>` (or the fields themselves as form fields). Keys this gateway does not use
 * (`mrkdwn`, `blocks`, ...) are ignored, as Rocket.Chat does, so existing senders work unchanged.
 */
import { z } from 'zod';
import { createError } from '../errors.js';
import { parseInput } from '../http/validation.js';
import { messageIdSchema } from '../rocketchat-ids.js';

/** A post, normalized. */
export interface IncomingMessage {
  readonly text: string;
  /** As given: `#name`, `@username`, or a room id or name. Absent: the hook's room. */
  readonly channel: string | undefined;
  readonly alias: string | undefined;
  readonly emoji: string | undefined;
  readonly avatar: string | undefined;
  readonly threadId: string | undefined;
  readonly attachments: readonly Record<string, unknown>[] | undefined;
}

const optionalString = (max: number) => z.string().max(max, `must be at most ${max} characters`).optional();

/** The body of `POST /hooks/:id/:token` (also the OpenAPI document's `IncomingHookPayload`). */
export function incomingPayloadSchema(maxText: number) {
  return z
    .object({
      text: optionalString(maxText),
      msg: optionalString(maxText).describe('Same as `text`.'),
      channel: z
        .union([z.string().min(1).max(256), z.array(z.string().min(1).max(256)).length(1)], {
          error: 'must be one channel: "#name", "@username" or a room id',
        })
        .optional()
        .describe(
          '`#name`, `@username` (direct message) or a room id; the hook room when absent. Only hooks created with `allowChannelOverride: true` accept another room than their own (403 otherwise); then Rocket.Chat decides whether the owner may use it.',
        ),
      roomId: z.string().min(1).max(256).optional().describe('Same as `channel`.'),
      alias: optionalString(255),
      username: optionalString(255).describe('Slack: same as `alias`.'),
      emoji: optionalString(255),
      icon_emoji: optionalString(255).describe('Slack: same as `emoji`.'),
      avatar: optionalString(2048),
      icon_url: optionalString(2048).describe('Slack: same as `avatar`.'),
      tmid: messageIdSchema.optional().describe('Post in this thread.'),
      attachments: z
        .array(z.record(z.string(), z.unknown(), { error: 'must be an object' }), {
          error: 'must be an array of objects',
        })
        .max(100, 'must have at most 100 attachments')
        .optional(),
    })
    .refine(
      (body) => (body.text ?? body.msg ?? '').trim().length > 0 || (body.attachments?.length ?? 0) > 0,
      { message: 'must not be empty (unless there are attachments)', path: ['text'] },
    )
    .describe(
      "Rocket.Chat's incoming-webhook payload; Slack's names (`username`, `icon_emoji`, `icon_url`) work too, and other keys are ignored. `text` may be empty only with `attachments`.",
    );
}

export type PayloadParser = (contentType: string | undefined, raw: Buffer) => IncomingMessage;

/** A parser for bodies of `contentType`, with texts up to `maxTextLength`. */
export function createPayloadParser(maxTextLength: number): PayloadParser {
  const schema = incomingPayloadSchema(maxTextLength);
  return (contentType, raw) => {
    const body = parseInput(schema, decodeBody(contentType, raw));
    const channel = Array.isArray(body.channel) ? body.channel[0] : (body.channel ?? body.roomId);
    return {
      text: body.text ?? body.msg ?? '',
      channel,
      alias: body.username ?? body.alias,
      emoji: body.icon_emoji ?? body.emoji,
      avatar: body.icon_url ?? body.avatar,
      threadId: body.tmid,
      attachments: body.attachments,
    };
  };
}

function decodeBody(contentType: string | undefined, raw: Buffer): Record<string, unknown> {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/x-www-form-urlencoded') {
    const form = new URLSearchParams(raw.toString('utf8'));
    const payload = form.get('payload');
    // Slack's form: the whole message as JSON in `payload`; Rocket.Chat also takes plain fields.
    if (payload !== null) return parseJsonObject(payload, 'payload');
    const fields: Record<string, unknown> = {};
    for (const [key, value] of form) fields[key] = value;
    return fields;
  }
  // No type at all: tried as JSON, which is what senders that forget the header mean.
  if (type === '' || type === 'application/json' || type.endsWith('+json')) {
    return parseJsonObject(raw.toString('utf8'), '(body)');
  }
  throw createError(
    'GW_ERR_UNSUPPORTED_MEDIA_TYPE',
    'Send the payload as application/json, or as application/x-www-form-urlencoded with payload=<json>',
  );
}

function parseJsonObject(text: string, field: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid(field, 'is not valid JSON', err);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(field, 'must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function invalid(field: string, message: string, cause?: unknown) {
  return createError('GW_ERR_VALIDATION', `${field}: ${message}`, {
    details: { fields: [{ field, message }] },
    ...(cause === undefined ? {} : { cause }),
  });
}
