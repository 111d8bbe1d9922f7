/**
 * Request bodies of the `/v1/webhooks` routes. Shapes are checked with zod; topics and event types
 * then go through the same parsers as `GET /v1/events` (`src/events/topics.ts`), so a webhook
 * accepts exactly what an SSE stream accepts and reports the same errors.
 */
import { z } from 'zod';
import { createError } from '../errors.js';
import { canonicalFilter, contentFilterSchema } from '../events/content-filter.js';
import { parseEventTypes, parseTopics, type Topic } from '../events/topics.js';
import { validationError } from '../http/validation.js';
import type { WebhookChange, WebhookInput } from './webhook-service.js';

const MAX_DESCRIPTION = 500;

/** A list as an array of strings or one comma-separated string, like the SSE query. */
const list = z.union([z.string(), z.array(z.string()).max(200)]);

const createBody = z.strictObject({
  url: z.string().min(1),
  topics: list,
  events: list.optional(),
  description: z.string().max(MAX_DESCRIPTION).optional(),
  filter: contentFilterSchema.nullable().optional(),
});

const updateBody = z.strictObject({
  url: z.string().min(1).optional(),
  topics: list.optional(),
  events: list.optional(),
  description: z.string().max(MAX_DESCRIPTION).optional(),
  enabled: z.boolean().optional(),
  /** `null` (or a filter that asks for nothing) removes the filter. */
  filter: contentFilterSchema.nullable().optional(),
});

const instant = z.union([z.iso.datetime({ offset: true }), z.number().int().nonnegative()]);

const replayBody = z.strictObject({
  since: instant,
  until: instant.optional(),
});

export function parseCreateBody(body: unknown): WebhookInput {
  const parsed = check(createBody, body);
  return {
    url: parsed.url,
    topics: requiredTopics(parsed.topics),
    eventTypes: parsed.events === undefined ? [] : parseEventTypes(parsed.events),
    description: parsed.description ?? '',
    filter: parsed.filter ? canonicalFilter(parsed.filter) : undefined,
  };
}

export function parseUpdateBody(body: unknown): WebhookChange {
  const parsed = check(updateBody, body);
  if (Object.keys(parsed).length === 0) {
    throw createError(
      'GW_ERR_VALIDATION',
      'Nothing to change: give url, topics, events, description, filter or enabled',
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
  return change;
}

export function parseReplayBody(body: unknown): { sinceMs: number; untilMs: number | undefined } {
  const parsed = check(replayBody, body);
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
  if (value === undefined) return 50;
  const n = typeof value === 'string' && /^\d{1,3}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= 100)) {
    throw createError('GW_ERR_VALIDATION', 'limit must be an integer from 1 to 100', {
      details: { field: 'limit' },
    });
  }
  return n;
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
