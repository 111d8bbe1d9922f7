/**
 * REST chat endpoints (RC app/api/server/v1/chat.ts): getMessage, syncMessages, sendMessage,
 * postMessage (what incoming webhooks use), update, delete, react. Dates are ISO strings.
 */
import type { Router } from 'express';
import type { SimContext } from './context.js';
import { getMessageHistory, type HistoryQuery } from './message-history.js';
import { MeteorError } from './meteor-error.js';
import { isRecord } from './method-helpers.js';
import { canAccessRoom } from './permissions.js';
import { addRoute, type RestCall } from './rest-framework.js';
import type { RestRateLimits } from './rest-rate-limit.js';
import type { SimRoom, SimUser } from './types.js';

function caller(call: RestCall): SimUser {
  if (!call.user) {
    throw new MeteorError('error-invalid-user', 'Invalid user');
  }
  return call.user;
}

function syncMessages(call: RestCall): Record<string, unknown> {
  const user = caller(call);
  const { roomId, lastUpdate, count, next, previous, type } = call.query;
  if (!roomId) {
    throw new MeteorError('error-param-required', 'The required "roomId" query param is missing');
  }
  if (!lastUpdate && !type) {
    throw new MeteorError('error-param-required', 'The "type" or "lastUpdate" parameters must be provided');
  }
  if (lastUpdate && Number.isNaN(Date.parse(lastUpdate))) {
    throw new MeteorError(
      'error-lastUpdate-param-invalid',
      'The "lastUpdate" query parameter must be a valid date',
    );
  }
  const query: HistoryQuery = {
    ...(lastUpdate ? { lastUpdate: new Date(lastUpdate) } : {}),
    ...(next ? { next } : {}),
    ...(previous ? { previous } : {}),
    ...(count && Number.isFinite(Number(count)) ? { count: Number(count) } : {}),
    ...(type ? { type } : {}),
  };
  const result = getMessageHistory(call.ctx, roomId, user._id, query);
  return {
    result: {
      updated: 'updated' in result ? result.updated : [],
      deleted: 'deleted' in result ? result.deleted : [],
      cursor: 'cursor' in result ? result.cursor : undefined,
    },
  };
}

/** processWebhookMessage's channel lookup: `#name`, `@username` (DM), or a room id / name. */
function resolveChannel(ctx: SimContext, user: SimUser, target: string): SimRoom {
  const invalid = (): MeteorError =>
    new MeteorError('error-invalid-channel', 'Invalid channel. Start with @ or #');
  if (target.startsWith('@')) {
    const other = ctx.store.userByUsername(target.slice(1));
    if (!other) {
      throw invalid();
    }
    return ctx.rooms.createDirect([user, other]);
  }
  const name = target.startsWith('#') ? target.slice(1) : target;
  const room = ctx.store.room(name) ?? ctx.store.roomByName(name);
  if (!room) {
    throw invalid();
  }
  return room;
}

function postMessage(call: RestCall): Record<string, unknown> {
  const user = caller(call);
  const { ctx, body } = call;
  const text = typeof body['text'] === 'string' ? body['text'] : undefined;
  const attachments = Array.isArray(body['attachments']) ? body['attachments'] : undefined;
  const tooLong = (value: unknown): boolean =>
    typeof value === 'string' && value.length > ctx.options.maxMessageSize;
  if (tooLong(text) || attachments?.some((a) => isRecord(a) && tooLong(a['text']))) {
    throw new Error('error-message-size-exceeded');
  }
  const target = body['roomId'] ?? body['channel'];
  const channel = Array.isArray(target) ? target[0] : target;
  if (typeof channel !== 'string' || channel === '') {
    throw new MeteorError('error-invalid-channel', 'Invalid channel. Start with @ or #');
  }
  const room = resolveChannel(ctx, user, channel);
  ctx.messages.canSendMessage(room._id, user);
  const optional = (key: string) => (typeof body[key] === 'string' ? { [key]: body[key] as string } : {});
  const message = ctx.messages.insert(user, room, {
    rid: room._id,
    msg: text ?? '',
    ...(typeof body['username'] === 'string' ? { alias: body['username'] } : optional('alias')),
    ...(typeof body['icon_url'] === 'string' ? { avatar: body['icon_url'] } : optional('avatar')),
    ...(typeof body['icon_emoji'] === 'string' ? { emoji: body['icon_emoji'] } : optional('emoji')),
    ...optional('tmid'),
    groupable: typeof body['groupable'] === 'boolean' ? body['groupable'] : false,
    ...(isRecord(body['bot']) ? { bot: body['bot'] } : {}),
    ...(attachments ? { attachments } : {}),
    ...(isRecord(body['customFields']) ? { customFields: body['customFields'] } : {}),
  });
  if (!message) {
    throw new Error('unknown-error');
  }
  return { ts: Date.now(), channel, message };
}

function findMessage(ctx: SimContext, id: unknown): ReturnType<SimContext['store']['message']> {
  return typeof id === 'string' ? ctx.store.message(id) : undefined;
}

export function addChatRoutes(router: Router, ctx: SimContext, limits: RestRateLimits): void {
  const route = (method: 'get' | 'post', name: string, handler: Parameters<typeof addRoute>[4]) =>
    addRoute(router, ctx, limits, { method, name, authRequired: true }, handler);

  route('get', 'chat.getMessage', (call) => {
    const user = caller(call);
    const msgId = call.query['msgId'];
    if (!msgId) {
      throw new Error('The "msgId" query parameter must be provided.');
    }
    const message = ctx.store.message(msgId);
    if (!message) {
      // RC `API.v1.failure()` without arguments.
      return { status: 400, raw: true, body: { success: false } };
    }
    if (!canAccessRoom(ctx.store, ctx.store.room(message.rid), user._id)) {
      throw new MeteorError('error-not-allowed', 'Not allowed', { method: 'getSingleMessage' });
    }
    return { body: { message } };
  });

  route('get', 'chat.syncMessages', (call) => ({ body: syncMessages(call) }));

  route('post', 'chat.postMessage', (call) => ({ body: postMessage(call) }));

  route('post', 'chat.sendMessage', (call) => {
    const user = caller(call);
    const input = call.body['message'];
    if (!isRecord(input) || typeof input['rid'] !== 'string') {
      throw new MeteorError('invalid-params', "must have required property 'rid'");
    }
    const message = ctx.messages.executeSend(user, { ...input, rid: input['rid'] } as Parameters<
      typeof ctx.messages.executeSend
    >[1]);
    if (!message) {
      // Duplicate `_id`: RC normalizes `undefined` and the TypeError is rendered as a 400.
      throw new Error("Cannot read properties of undefined (reading 'u')");
    }
    return { body: { message } };
  });

  route('post', 'chat.update', (call) => {
    const user = caller(call);
    const { roomId, msgId, text } = call.body;
    const message = findMessage(ctx, msgId);
    if (!message) {
      throw new Error(`No message found with the id of "${String(msgId)}".`);
    }
    if (roomId !== message.rid) {
      throw new Error('The room id provided does not match where the message is from.');
    }
    ctx.edits.update(user, { _id: message._id, rid: message.rid, msg: typeof text === 'string' ? text : '' });
    return { body: { message: ctx.store.message(message._id) } };
  });

  route('post', 'chat.delete', (call) => {
    const user = caller(call);
    const { roomId, msgId } = call.body;
    const message = findMessage(ctx, msgId);
    if (!message) {
      throw new Error(`No message found with the id of "${String(msgId)}".`);
    }
    if (roomId !== message.rid) {
      throw new Error('The room id provided does not match where the message is from.');
    }
    ctx.edits.delete(user, message._id);
    return {
      body: {
        _id: message._id,
        ts: String(Date.now()),
        message: { _id: message._id, rid: message.rid, u: message.u },
      },
    };
  });

  route('post', 'chat.react', (call) => {
    const user = caller(call);
    const message = findMessage(ctx, call.body['messageId']);
    if (!message) {
      throw new MeteorError(
        'error-message-not-found',
        'The provided "messageId" does not match any existing message.',
      );
    }
    const emoji = call.body['emoji'] ?? call.body['reaction'];
    if (typeof emoji !== 'string' || emoji === '') {
      throw new MeteorError('error-emoji-param-not-provided', 'The required "emoji" param is missing.');
    }
    const should = call.body['shouldReact'];
    ctx.edits.react(user, emoji, message._id, typeof should === 'boolean' ? should : undefined);
    return { body: {} };
  });
}
