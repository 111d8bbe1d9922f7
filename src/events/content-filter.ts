/**
 * Content filters: what a subscriber (SSE stream or webhook) asks of the messages it gets, beyond
 * topics and event types. Declarative and small on purpose (fields, never code), validated with
 * one zod schema for both transports, and compiled once per subscriber into a predicate.
 *
 * The conditions read the Rocket.Chat message in a message event's `data` (`message.created`,
 * `message.updated`, `message.deleted`, `message.ephemeral`): `u` (the sender), `mentions`,
 * `tmid`, `_id` and `t`. Every other event passes untouched: topics and `types` choose those.
 * A message event whose `data` is not a whole message (no `u`: a bare deletion notice
 * `{_id, rid}`, a bulk deletion) fails every "only ..." condition and passes `excludeOwn`,
 * because nothing in it says who sent it.
 *
 * Evaluation parses the envelope JSON at most once per event object, however many filtered
 * subscribers see it (a WeakMap, as `eventFrame` caches frames), and only for message events;
 * a subscriber without a filter gets no predicate at all, so the hot path is unchanged.
 */
import { z } from 'zod';
import { GatewayError } from '../errors.js';
import { messageIdSchema } from '../rocketchat-ids.js';

/** At most this many `senders`. */
export const MAX_FILTER_SENDERS = 100;
/** At most this many `messageTypes`. */
export const MAX_FILTER_MESSAGE_TYPES = 50;
/** The `messageTypes` entry for an ordinary user message (one without `t`). */
export const PLAIN_MESSAGE_TYPE = 'plain';

/** Usernames and user ids: no whitespace, commas (list separator) or control characters. */
const SENDER = /^[^\s,\p{Cc}]{1,128}$/u;
/** Rocket.Chat `t` values: `uj`, `discussion-created`, `room_changed_privacy`, ... */
const MESSAGE_TYPE = /^[A-Za-z0-9_.-]{1,64}$/;

export const contentFilterSchema = z
  .strictObject({
    excludeOwn: z
      .boolean()
      .optional()
      .describe("Leave out messages the user sent (`u._id` is the user's id): a bot does not hear itself."),
    mentionsMe: z
      .boolean()
      .optional()
      .describe(
        'Only messages that mention the user by name (`mentions` holds its id); `@all` and `@here` do not count.',
      ),
    threadId: messageIdSchema
      .optional()
      .describe('Only the thread with this root message: its replies (`tmid`) and the root itself.'),
    senders: z
      .array(
        z.string().regex(SENDER, 'must be a username or user id (no spaces, commas or control characters)'),
      )
      .min(1)
      .max(MAX_FILTER_SENDERS)
      .optional()
      .describe('Only messages from these users, by username or user id.'),
    messageTypes: z
      .array(
        z.string().regex(MESSAGE_TYPE, 'must be a Rocket.Chat message type (1 to 64 of A-Z a-z 0-9 _ . -)'),
      )
      .min(1)
      .max(MAX_FILTER_MESSAGE_TYPES)
      .optional()
      .describe(
        `Only messages of these types (Rocket.Chat's \`t\`: \`uj\`, \`discussion-created\`, ...); \`${PLAIN_MESSAGE_TYPE}\` is an ordinary message, one without \`t\`.`,
      ),
  })
  .describe(
    'A content filter: every condition given must hold (AND). It applies to message events; other events pass.',
  );

export type ContentFilter = z.output<typeof contentFilterSchema>;

/** Field names as the SSE query spells them: `filter.excludeOwn=true`, `filter.senders=bob,carol`. */
export const FILTER_QUERY_PREFIX = 'filter.';

/**
 * The filter in its canonical form (false flags and duplicates dropped), or undefined when it
 * asks for nothing: such a subscriber is then not filtered at all.
 */
export function canonicalFilter(filter: ContentFilter): ContentFilter | undefined {
  const out: { -readonly [K in keyof ContentFilter]: ContentFilter[K] } = {};
  if (filter.excludeOwn) out.excludeOwn = true;
  if (filter.mentionsMe) out.mentionsMe = true;
  if (filter.threadId !== undefined) out.threadId = filter.threadId;
  if (filter.senders !== undefined) out.senders = [...new Set(filter.senders)];
  if (filter.messageTypes !== undefined) out.messageTypes = [...new Set(filter.messageTypes)];
  return Object.keys(out).length === 0 ? undefined : out;
}

/**
 * Validates an untrusted filter; `path` prefixes the field names in errors (`filter` for a
 * webhook body). Renders as 400 `GW_ERR_VALIDATION` with `details.fields`, like every body.
 */
export function parseContentFilter(input: unknown, path: string): ContentFilter | undefined {
  const result = contentFilterSchema.safeParse(input);
  if (!result.success) throw filterError(result.error, path);
  return canonicalFilter(result.data);
}

/**
 * The filter given as `filter.<field>` query parameters of `GET /v1/events`, or undefined when
 * there are none. Flags are `true`/`false`, lists comma-separated or repeated; an unknown
 * `filter.` field is refused like an unknown body field.
 */
export function parseFilterQuery(query: Readonly<Record<string, unknown>>): ContentFilter | undefined {
  const fields: [string, unknown][] = [];
  for (const [key, value] of Object.entries(query)) {
    if (!key.startsWith(FILTER_QUERY_PREFIX)) continue;
    const field = key.slice(FILTER_QUERY_PREFIX.length);
    fields.push([
      field,
      field === 'senders' || field === 'messageTypes' ? queryList(value) : queryScalar(value),
    ]);
  }
  // `fromEntries` defines own properties: `filter.__proto__` stays a field (and is refused as
  // unknown) instead of an assignment to the prototype that would vanish silently.
  return fields.length > 0 ? parseContentFilter(Object.fromEntries(fields), 'filter') : undefined;
}

function queryScalar(value: unknown): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

function queryList(value: unknown): unknown {
  const parts = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(parts) || !parts.every((p) => typeof p === 'string')) return value;
  return parts.flatMap((part: string) =>
    part
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  );
}

/** The same shape as every validation error (src/http/validation.ts): `details.fields`. */
function filterError(error: z.ZodError, path: string): GatewayError {
  const fields = error.issues.slice(0, 10).map((issue) => ({
    field: [path, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const first = fields[0]!;
  return new GatewayError('GW_ERR_VALIDATION', `${first.field}: ${first.message}`, { details: { fields } });
}

/** What a predicate reads: the type to route on, and the envelope bytes for message events. */
export interface FilterableEvent {
  readonly type: string;
  readonly json: string;
}

export type ContentPredicate = (event: FilterableEvent) => boolean;

const MESSAGE_EVENTS: ReadonlySet<string> = new Set([
  'message.created',
  'message.updated',
  'message.deleted',
  'message.ephemeral',
]);

/** The fields the conditions read, taken once from an event's message. */
interface MessageFacts {
  /** False for a deletion notice or anything else without a sender. */
  readonly isWhole: boolean;
  readonly id: string | undefined;
  readonly senderId: string | undefined;
  readonly senderName: string | undefined;
  /** `t`, or `plain` when absent. */
  readonly type: string;
  readonly threadId: string | undefined;
  readonly mentionIds: readonly string[];
}

const NOT_A_MESSAGE: MessageFacts = {
  isWhole: false,
  id: undefined,
  senderId: undefined,
  senderName: undefined,
  type: PLAIN_MESSAGE_TYPE,
  threadId: undefined,
  mentionIds: [],
};

const factsCache = new WeakMap<object, MessageFacts>();

function factsOf(event: FilterableEvent): MessageFacts {
  let facts = factsCache.get(event);
  if (facts === undefined) {
    facts = readFacts(event.json);
    factsCache.set(event, facts);
  }
  return facts;
}

function readFacts(json: string): MessageFacts {
  let envelope: unknown;
  try {
    envelope = JSON.parse(json);
  } catch {
    return NOT_A_MESSAGE;
  }
  const data = isRecord(envelope) ? envelope.data : undefined;
  if (!isRecord(data)) return NOT_A_MESSAGE;
  const sender = isRecord(data.u) ? data.u : undefined;
  const mentions = Array.isArray(data.mentions) ? data.mentions : [];
  return {
    isWhole: sender !== undefined,
    id: stringOr(data._id),
    senderId: stringOr(sender?._id),
    senderName: stringOr(sender?.username),
    type: stringOr(data.t) ?? PLAIN_MESSAGE_TYPE,
    threadId: stringOr(data.tmid),
    mentionIds: mentions.flatMap((m) => (isRecord(m) && typeof m._id === 'string' ? [m._id] : [])),
  };
}

/**
 * Compiles a canonical filter for the subscriber whose log is `userId`'s. Sets are built here,
 * once; per event the predicate does a type lookup and, for message events, reads cached facts.
 */
export function compileContentFilter(filter: ContentFilter, userId: string): ContentPredicate {
  const excludeOwn = filter.excludeOwn === true;
  const mentionsMe = filter.mentionsMe === true;
  const threadId = filter.threadId;
  const senders = filter.senders ? new Set(filter.senders) : undefined;
  const types = filter.messageTypes ? new Set(filter.messageTypes) : undefined;
  const asksForSomething =
    mentionsMe || threadId !== undefined || senders !== undefined || types !== undefined;
  return (event) => {
    if (!MESSAGE_EVENTS.has(event.type)) return true;
    const m = factsOf(event);
    if (!m.isWhole) return !asksForSomething;
    if (excludeOwn && m.senderId === userId) return false;
    if (mentionsMe && !m.mentionIds.includes(userId)) return false;
    if (threadId !== undefined && m.threadId !== threadId && m.id !== threadId) return false;
    if (
      senders !== undefined &&
      !(m.senderId !== undefined && senders.has(m.senderId)) &&
      !(m.senderName !== undefined && senders.has(m.senderName))
    )
      return false;
    if (types !== undefined && !types.has(m.type)) return false;
    return true;
  };
}

/**
 * A topic matcher with a content predicate after it; the matcher itself when there is no
 * predicate, so an unfiltered subscriber pays nothing.
 */
export function withContentFilter<E extends FilterableEvent>(
  matches: (event: E) => boolean,
  content: ContentPredicate | undefined,
): (event: E) => boolean {
  if (content === undefined) return matches;
  return (event) => matches(event) && content(event);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
