/**
 * Builds IMessage documents the way Rocket.Chat's sendMessage pipeline leaves them:
 * `_id, rid, msg, ts, u, _updatedAt, urls, mentions, channels, md` plus optional fields
 * (docs/simulator-protocol.md §5, §9).
 */
import { parseMessageText } from './markdown.js';
import { canAccessRoom } from './permissions.js';
import type { Store } from './store.js';
import type { Mention, SimMessage, SimUser } from './types.js';

/** Client-supplied message fields accepted by `sendMessage` / `chat.sendMessage` / `chat.postMessage`. */
export interface MessageInput {
  _id?: string;
  rid: string;
  msg?: string;
  tmid?: string;
  tshow?: boolean;
  ts?: Date;
  t?: string;
  alias?: string;
  emoji?: string;
  avatar?: string;
  groupable?: boolean;
  bot?: Record<string, unknown>;
  attachments?: unknown[];
  customFields?: Record<string, unknown>;
}

/** The fields derived from the text: `urls`, `mentions`, `channels`, `md`. */
export interface DerivedFields {
  urls: { url: string }[];
  mentions: Mention[];
  channels: { _id: string; name: string }[];
  md: unknown[];
}

export function deriveFromText(store: Store, text: string, author: SimUser): DerivedFields {
  const parsed = parseMessageText(text);
  const mentions: Mention[] = [];
  for (const name of parsed.mentionedUsernames) {
    if (name === 'all' || name === 'here') {
      mentions.push({ _id: name, username: name, type: 'user' });
      continue;
    }
    const user = store.userByUsername(name);
    if (user) {
      mentions.push({ _id: user._id, username: user.username, name: user.name, type: 'user' });
    }
  }
  const channels: { _id: string; name: string }[] = [];
  for (const name of parsed.channelNames) {
    const room = store.roomByName(name);
    if (room?.name && canAccessRoom(store, room, author._id)) {
      channels.push({ _id: room._id, name: room.name });
    }
  }
  return { urls: parsed.urls.map((url) => ({ url })), mentions, channels, md: parsed.md };
}

export function buildMessage(
  store: Store,
  author: SimUser,
  input: MessageInput & { _id: string; ts: Date },
  updatedAt: Date,
): SimMessage {
  const msg = input.msg ?? '';
  const derived = deriveFromText(store, msg, author);
  return {
    _id: input._id,
    rid: input.rid,
    msg,
    ts: input.ts,
    u: { _id: author._id, username: author.username, name: author.name },
    ...(input.t ? { t: input.t } : {}),
    ...(input.tmid ? { tmid: input.tmid } : {}),
    ...(input.tmid && input.tshow ? { tshow: true } : {}),
    ...(input.alias ? { alias: input.alias } : {}),
    ...(input.emoji ? { emoji: input.emoji } : {}),
    ...(input.avatar ? { avatar: input.avatar } : {}),
    ...(input.groupable !== undefined ? { groupable: input.groupable } : {}),
    ...(input.bot ? { bot: input.bot } : {}),
    ...(input.attachments ? { attachments: input.attachments } : {}),
    ...(input.customFields ? { customFields: input.customFields } : {}),
    _updatedAt: updatedAt,
    urls: derived.urls,
    mentions: derived.mentions,
    channels: derived.channels,
    md: derived.md,
  };
}
