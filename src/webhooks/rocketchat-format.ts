/**
 * `format: "rocketchat"`: the body Rocket.Chat's own outgoing integration posts for its
 * `sendMessage` event, so a receiver written for Rocket.Chat switches to the gateway by changing
 * one URL. Field names, order and types follow `mapEventArgsToData` in Rocket.Chat's
 * apps/meteor/app/integrations/server/lib/triggerHandler.ts:
 *
 *   token, bot, channel_id, channel_name, message_id, timestamp, user_id, user_name, text,
 *   siteUrl, and only when they apply: alias, isEdited, tmid
 *
 * `timestamp` is the message's `ts` as Rocket.Chat serializes a Date (ISO-8601); `channel_name`
 * is the room's `name` (absent for direct messages, which have none, as in Rocket.Chat); `bot` is
 * true for messages a bot posted, including the gateway's own posted replies (Rocket.Chat marks
 * those with `bot: { i: integrationId }`): receivers check it so as not to answer themselves.
 *
 * The reply side (`parseRocketChatReply`) mirrors what Rocket.Chat does with the response: a
 * 200, 201 or 202 whose JSON body has `text` or `attachments` becomes a message in the room.
 */
import { createError } from '../errors.js';
import type { GatewayEventType } from '../events/types.js';
import type { SendPayload } from '../outbound/types.js';
import { ROCKETCHAT_ID } from '../rocketchat-ids.js';

/** Event types a `rocketchat` webhook is sent: Rocket.Chat's `sendMessage` (and `runOnEdits`). */
export const ROCKETCHAT_EVENT_TYPES = ['message.created', 'message.updated'] as const;

export interface RocketChatBodyContext {
  /** The webhook's outgoing-integration token (Rocket.Chat puts it in the body). */
  readonly token: string;
  /** Rocket.Chat's `Site_Url`: the server the gateway talks to. */
  readonly siteUrl: string;
  /** The room's name, when known (not for direct messages). */
  readonly channelName: string | undefined;
  /** The message is one the gateway posted as a reply of this webhook. */
  readonly isGatewayReply: boolean;
}

/** What the processor needs to know about a message envelope before rendering it. */
export interface MessageFacts {
  readonly messageId: string;
  readonly roomId: string;
}

interface Envelope {
  readonly id?: unknown;
  readonly type?: unknown;
  readonly roomId?: unknown;
  readonly ts?: unknown;
  readonly data?: unknown;
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function parseEnvelope(envelopeJson: string): Envelope | undefined {
  try {
    const parsed: unknown = JSON.parse(envelopeJson);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The message and room of a message event; undefined for any other event. */
export function messageFactsOf(envelopeJson: string): MessageFacts | undefined {
  const envelope = parseEnvelope(envelopeJson);
  if (!envelope || !(ROCKETCHAT_EVENT_TYPES as readonly unknown[]).includes(envelope.type)) return undefined;
  const message = envelope.data;
  if (!isRecord(message) || typeof message._id !== 'string') return undefined;
  const roomId = typeof message.rid === 'string' ? message.rid : envelope.roomId;
  if (typeof roomId !== 'string') return undefined;
  return { messageId: message._id, roomId };
}

/**
 * The Rocket.Chat body for a logged envelope, as JSON; undefined for events Rocket.Chat's
 * outgoing integrations have no equivalent of (they are not sent). `webhook.test` gets a body of
 * the same shape, so that a receiver's token check can be tried.
 */
export function renderRocketChatBody(
  envelopeJson: string,
  context: RocketChatBodyContext,
): string | undefined {
  const envelope = parseEnvelope(envelopeJson);
  if (!envelope) return undefined;
  if (envelope.type === 'webhook.test') {
    const data = isRecord(envelope.data) ? envelope.data : {};
    return JSON.stringify({
      token: context.token,
      bot: false,
      message_id: envelope.id,
      timestamp: envelope.ts,
      text: typeof data.message === 'string' ? data.message : '',
      siteUrl: context.siteUrl,
    });
  }
  if (!(ROCKETCHAT_EVENT_TYPES as readonly unknown[]).includes(envelope.type)) return undefined;
  const message = envelope.data;
  if (!isRecord(message)) return undefined;
  const user = isRecord(message.u) ? message.u : {};
  const body: Json = {
    token: context.token,
    bot: false,
    channel_id: typeof message.rid === 'string' ? message.rid : envelope.roomId,
    channel_name: context.channelName,
    message_id: message._id,
    timestamp: message.ts,
    user_id: user._id,
    user_name: user.username,
    text: typeof message.msg === 'string' ? message.msg : '',
    siteUrl: context.siteUrl,
  };
  if (typeof message.alias === 'string' && message.alias !== '') body.alias = message.alias;
  // Rocket.Chat: `if (message.bot) data.bot = Boolean(message.bot)`.
  if (message.bot || context.isGatewayReply) body.bot = true;
  if (message.editedAt) body.isEdited = true;
  if (typeof message.tmid === 'string' && message.tmid !== '') body.tmid = message.tmid;
  return JSON.stringify(body);
}

/** Content types whose body Rocket.Chat reads as JSON (triggerHandler.ts). */
const JSON_TYPES = new Set([
  'application/json',
  'text/javascript',
  'application/javascript',
  'application/x-javascript',
]);
/** Rocket.Chat's `successResults`: other 2xx deliver, but post nothing back. */
const REPLY_STATUSES = new Set([200, 201, 202]);

const MAX_REPLY_TEXT = 5000;
const MAX_ATTACHMENTS = 100;
const ALIAS = /^.{1,255}$/s;
const EMOJI = /^:?[\w+-]{1,100}:?$/;
const MESSAGE_ID = ROCKETCHAT_ID;

export type ReplyParse =
  | { readonly kind: 'none' }
  | { readonly kind: 'message'; readonly send: SendPayload }
  | { readonly kind: 'invalid'; readonly reason: string };

/**
 * What a receiver's response asks to post back: `none` (nothing to post, as Rocket.Chat: not
 * JSON, not an object, no `text` and no `attachments`), a message, or `invalid` (it asked for a
 * message the gateway will not send, e.g. a text over the size Rocket.Chat accepts).
 */
export function parseRocketChatReply(
  statusCode: number,
  contentType: string | undefined,
  body: string | undefined,
): ReplyParse {
  if (!REPLY_STATUSES.has(statusCode) || !body) return { kind: 'none' };
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (!JSON_TYPES.has(type)) return { kind: 'none' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { kind: 'none' };
  }
  if (!isRecord(parsed)) return { kind: 'none' };
  const text = parsed.text;
  const attachments = parsed.attachments;
  const hasText = typeof text === 'string' && text.trim() !== '';
  const hasAttachments = Array.isArray(attachments) && attachments.length > 0;
  if (!hasText && !hasAttachments) return { kind: 'none' };
  if (hasText && text.length > MAX_REPLY_TEXT) {
    return { kind: 'invalid', reason: `reply text longer than ${MAX_REPLY_TEXT} characters` };
  }
  if (hasAttachments && (attachments.length > MAX_ATTACHMENTS || !attachments.every(isRecord))) {
    return { kind: 'invalid', reason: `reply attachments must be at most ${MAX_ATTACHMENTS} objects` };
  }
  const send: { -readonly [K in keyof SendPayload]: SendPayload[K] } = { text: hasText ? text : '' };
  if (hasAttachments) send.attachments = attachments as readonly Json[];
  if (typeof parsed.alias === 'string' && ALIAS.test(parsed.alias)) send.alias = parsed.alias;
  if (typeof parsed.emoji === 'string' && EMOJI.test(parsed.emoji)) send.emoji = parsed.emoji;
  if (typeof parsed.tmid === 'string' && MESSAGE_ID.test(parsed.tmid)) send.threadId = parsed.tmid;
  return { kind: 'message', send };
}

/**
 * A `rocketchat` webhook hears what Rocket.Chat's outgoing integrations hear for messages:
 * `message.created` (its `sendMessage`) and, when asked, `message.updated` (`runOnEdits`).
 */
export function rocketChatEventTypes(eventTypes: readonly GatewayEventType[]): readonly GatewayEventType[] {
  if (eventTypes.length === 0) return ['message.created'];
  const other = eventTypes.find((type) => !(ROCKETCHAT_EVENT_TYPES as readonly string[]).includes(type));
  if (other !== undefined) {
    throw createError(
      'GW_ERR_VALIDATION',
      `format "rocketchat" sends message.created and message.updated only, not ${other}`,
      { details: { field: 'events' } },
    );
  }
  return eventTypes;
}
