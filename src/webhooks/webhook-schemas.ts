/**
 * Request bodies of the `/v1/webhooks` routes. Shapes are checked with zod; topics and event types
 * then go through the same parsers as `GET /v1/events` (`src/events/topics.ts`), so a webhook
 * accepts exactly what an SSE stream accepts and reports the same errors. The exported schemas
 * are also the OpenAPI document's request bodies (src/openapi/webhooks.ts, via `z.toJSONSchema`).
 */
import { z } from 'zod';
import { createError } from '../errors.js';
import { canonicalFilter, contentFilterSchema } from '../events/content-filter.js';
import { parseEventTypes, parseTopics, type Topic } from '../events/topics.js';
import { type CursorPosition, decodeCursor, parsePageLimit } from '../http/page-cursor.js';
import { validationError } from '../http/validation.js';
import {
  HEADER_NAME,
  MAX_HEADERS,
  MAX_NAME_LENGTH,
  MAX_VALUE_LENGTH,
  parseCustomHeaders,
} from './custom-headers.js';
import type { AttemptFilter } from './delivery-ledger.js';
import { parseRocketChatToken, ROCKETCHAT_TOKEN } from './rocketchat-token.js';
import { MAX_TARGET_URL_LENGTH } from './target-policy.js';
import type { WebhookChange, WebhookInput } from './webhook-service.js';
import { WEBHOOK_FORMATS } from './webhook-store.js';

const MAX_DESCRIPTION = 500;

/** A list as an array of strings or one comma-separated string, like the SSE query. */
export const stringListSchema = z
  .union([z.string(), z.array(z.string()).max(200)])
  .describe('An array of strings, or one comma-separated string.');

// The target policy (target-policy.ts) checks the URL itself: an absolute http(s) URL it may
// reach, without credentials or fragment; its messages name the rule broken.
const url = z.string().min(1).meta({
  format: 'uri',
  maxLength: MAX_TARGET_URL_LENGTH,
  description:
    'The absolute http(s) URL that receives the events (`http:` only while `WEBHOOK_ALLOW_HTTP`, off in production).',
});

const format = z
  .enum(WEBHOOK_FORMATS as ['gateway', 'rocketchat'])
  .describe(
    "`gateway` (default): the event envelope. `rocketchat`: the body Rocket.Chat's outgoing integration posts (`token`, `bot`, `channel_id`, `channel_name`, `message_id`, `timestamp`, `user_id`, `user_name`, `text`, `siteUrl`...), for `message.created` (and `message.updated` when listed); a 200-202 JSON reply with `text` or `attachments` is posted back into the room as the owner.",
  );

// `token` and `headers` are checked by their own parsers below (rocketchat-token.ts,
// custom-headers.ts), whose messages name the rule broken; `meta` tells the OpenAPI document
// what those parsers accept.
const token = z.unknown().meta({
  type: 'string',
  pattern: ROCKETCHAT_TOKEN.source,
  description:
    'Format `rocketchat` only: the token put in every body, which receivers check (keep the one an existing receiver expects). Generated when absent; shown only in the answer that sets it.',
});

/** `headers` of a webhook, as parseCustomHeaders accepts them (named `CustomHeaders` in the document). */
export const customHeadersSchema = z.unknown().meta({
  type: 'object',
  description:
    'Request headers sent with every delivery, replacing all earlier ones (`{}` removes them). Names are HTTP tokens (stored lower-case); hop-by-hop headers, `host`, `content-*`, `expect` and the signature headers (`webhook-*`) are refused; values are visible ASCII, spaces and tabs (no CR/LF), at most 1024 characters; at most 20 headers, 8 KiB in all. Values are stored encrypted and never shown.',
  maxProperties: MAX_HEADERS,
  propertyNames: { pattern: `${HEADER_NAME.source.slice(0, -2)}{1,${MAX_NAME_LENGTH}}$` },
  additionalProperties: { type: 'string', maxLength: MAX_VALUE_LENGTH },
});

export const createWebhookSchema = z.strictObject({
  url,
  topics: stringListSchema,
  events: stringListSchema.optional(),
  description: z.string().max(MAX_DESCRIPTION).optional(),
  filter: contentFilterSchema.nullable().optional(),
  format: format.optional(),
  token: token.optional(),
  headers: customHeadersSchema.optional(),
});

export const updateWebhookSchema = z
  .strictObject({
    url: url.optional(),
    topics: stringListSchema.optional(),
    events: stringListSchema.optional(),
    description: z.string().max(MAX_DESCRIPTION).optional(),
    enabled: z.boolean().optional().describe('`true` re-enables a disabled webhook and resets its failures.'),
    /** `null` (or a filter that asks for nothing) removes the filter. */
    filter: contentFilterSchema.nullable().optional().describe('A new content filter; `null` removes it.'),
    format: format.optional(),
    token: token.optional(),
    headers: customHeadersSchema.optional(),
  })
  // parseUpdateBody refuses an empty change.
  .meta({ minProperties: 1 });

const instant = z.union([
  // `format` only: zod's own date-time check would put a long regex in the document.
  z.iso.datetime({ offset: true }).meta({ format: 'date-time', pattern: undefined }),
  z.number().int().nonnegative().describe('epoch ms'),
]);

export const replayWebhookSchema = z.strictObject({
  since: instant,
  until: instant.optional(),
});

export function parseCreateBody(body: unknown): WebhookInput {
  const parsed = check(createWebhookSchema, body);
  return {
    url: parsed.url,
    topics: requiredTopics(parsed.topics),
    eventTypes: parsed.events === undefined ? [] : parseEventTypes(parsed.events),
    description: parsed.description ?? '',
    filter: parsed.filter ? canonicalFilter(parsed.filter) : undefined,
    ...(parsed.format === undefined ? {} : { format: parsed.format }),
    ...(parsed.token === undefined ? {} : { token: parseRocketChatToken(parsed.token) }),
    ...(parsed.headers === undefined ? {} : { headers: parseCustomHeaders(parsed.headers) }),
  };
}

export function parseUpdateBody(body: unknown): WebhookChange {
  const parsed = check(updateWebhookSchema, body);
  if (Object.keys(parsed).length === 0) {
    throw createError(
      'GW_ERR_VALIDATION',
      'Nothing to change: give url, topics, events, description, filter, enabled, format, token or headers',
    );
  }
  const change: { -readonly [K in keyof WebhookChange]: WebhookChange[K] } = {};
  if (parsed.url !== undefined) change.url = parsed.url;
  if (parsed.topics !== undefined) change.topics = requiredTopics(parsed.topics);
  if (parsed.events !== undefined) change.eventTypes = parseEventTypes(parsed.events);
  if (parsed.description !== undefined) change.description = parsed.description;
  if (parsed.enabled !== undefined) change.enabled = parsed.enabled;
  if (parsed.filter !== undefined)
    change.filter = parsed.filter ? (canonicalFilter(parsed.filter) ?? null) : null;
  if (parsed.format !== undefined) change.format = parsed.format;
  if (parsed.token !== undefined) change.token = parseRocketChatToken(parsed.token);
  if (parsed.headers !== undefined) change.headers = parseCustomHeaders(parsed.headers);
  return change;
}

export function parseReplayBody(body: unknown): { sinceMs: number; untilMs: number | undefined } {
  const parsed = check(replayWebhookSchema, body);
  const toMs = (value: string | number): number => (typeof value === 'number' ? value : Date.parse(value));
  const sinceMs = toMs(parsed.since);
  const untilMs = parsed.until === undefined ? undefined : toMs(parsed.until);
  if (untilMs !== undefined && untilMs < sinceMs) {
    throw createError('GW_ERR_VALIDATION', 'until must not be before since', { details: { field: 'until' } });
  }
  return { sinceMs, untilMs };
}

/** `?limit=` of the deliveries listing: 1..100, 50 when absent. */
export function parseLimit(value: unknown): number {
  return parsePageLimit(value, 50, 100);
}

/** `GET /v1/webhooks?limit&cursor`: 1..100 (100 when absent), after `(createdAtMs, id)`. */
export function parseListQuery(query: Record<string, unknown>): {
  limit: number;
  after: CursorPosition | undefined;
} {
  return {
    limit: parsePageLimit(query['limit'], 100, 100),
    after: decodeCursor(query['cursor'], 'webhooks', ['integer', 'string']),
  };
}

const OUTCOME_NAMES = new Set([
  'succeeded',
  'failed',
  'success',
  'http_error',
  'timeout',
  'network_error',
  'blocked',
]);

/**
 * `GET /v1/webhooks/:id/deliveries?limit&cursor&status&event&since&until`: `status` is
 * `succeeded`, `failed` or outcome names; `event` event types; `since`/`until` bound the
 * attempt time (ISO-8601 or ms), both inclusive.
 */
export function parseDeliveriesQuery(query: Record<string, unknown>): {
  limit: number;
  beforeSeq: number | undefined;
  filter: AttemptFilter;
} {
  const limit = parseLimit(query['limit']);
  const cursor = decodeCursor(query['cursor'], 'deliveries', ['integer']);
  const filter: { -readonly [K in keyof AttemptFilter]: AttemptFilter[K] } = {};
  const status = query['status'];
  if (status !== undefined) {
    const names = listParam(status, 'status');
    const unknown = names.find((name) => !OUTCOME_NAMES.has(name));
    if (unknown !== undefined) {
      throw createError('GW_ERR_VALIDATION', `status: unknown value "${unknown.slice(0, 40)}"`, {
        details: { field: 'status', allowed: [...OUTCOME_NAMES] },
      });
    }
    filter.outcomes = new Set(names);
  }
  // `webhook.test` is not a log event type, but its attempts are listed like any other.
  const event = query['event'];
  if (event !== undefined) {
    const names = listParam(event, 'event');
    const types = names.filter((name) => name !== 'webhook.test');
    filter.eventTypes = new Set([
      ...parseEventTypes(types),
      ...names.filter((name) => name === 'webhook.test'),
    ]);
  }
  const sinceMs = instantParam(query['since'], 'since');
  const untilMs = instantParam(query['until'], 'until');
  if (sinceMs !== undefined) filter.sinceMs = sinceMs;
  if (untilMs !== undefined) filter.untilMs = untilMs;
  if (sinceMs !== undefined && untilMs !== undefined && untilMs < sinceMs) {
    throw createError('GW_ERR_VALIDATION', 'until must not be before since', { details: { field: 'until' } });
  }
  return { limit, beforeSeq: cursor === undefined ? undefined : Number(cursor[0]), filter };
}

export const resendWebhookSchema = z.strictObject({
  eventId: z
    .string()
    .regex(/^(\d{1,15}-\d{1,15}|test_[0-9a-f-]{36})$/, 'must be an event id')
    .describe('An event id from the log, or of a dead letter of this webhook.'),
});

export function parseResendBody(body: unknown): { eventId: string } {
  return check(resendWebhookSchema, body);
}

function listParam(value: unknown, field: string): string[] {
  const parts = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined;
  if (!parts || parts.length > 20 || !parts.every((part) => typeof part === 'string')) {
    throw createError('GW_ERR_VALIDATION', `${field} must be a comma-separated list`, { details: { field } });
  }
  const names = (parts as string[])
    .flatMap((part) => part.split(','))
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0 || names.length > 20) {
    throw createError('GW_ERR_VALIDATION', `${field} must list 1 to 20 values`, { details: { field } });
  }
  return names;
}

function instantParam(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  const ms =
    typeof value !== 'string'
      ? Number.NaN
      : /^\d{1,15}$/.test(value)
        ? Number(value)
        : instant.safeParse(value).success
          ? Date.parse(value)
          : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw createError(
      'GW_ERR_VALIDATION',
      `${field} must be an ISO-8601 time or milliseconds since the epoch`,
      {
        details: { field },
      },
    );
  }
  return ms;
}

function requiredTopics(input: string | readonly string[]): readonly Topic[] {
  const topics = parseTopics(input);
  if (topics.length === 0) {
    throw createError('GW_ERR_TOPIC_INVALID', 'At least one topic is required', { details: { topic: '' } });
  }
  return topics;
}

function check<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  throw validationError(result.error);
}
