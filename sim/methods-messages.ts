/**
 * Message methods: sendMessage, updateMessage, deleteMessage, setReaction, getSingleMessage.
 */
import type { MessageInput } from './message-factory.js';
import { MeteorError, matchFailed } from './meteor-error.js';
import { checkOptionalBoolean, checkString, isRecord, requireUser } from './method-helpers.js';
import type { MethodTable } from './method-types.js';
import { canAccessRoom } from './permissions.js';

/** Keys `sendMessage` accepts (its `check(message, {...})`); anything else is `400 Match failed`. */
const SEND_KEYS: Record<string, 'string' | 'boolean' | 'date' | 'object'> = {
  _id: 'string',
  rid: 'string',
  msg: 'string',
  tmid: 'string',
  tshow: 'boolean',
  ts: 'date',
  t: 'string',
  bot: 'object',
  content: 'object',
  e2e: 'string',
  e2eMentions: 'object',
  customFields: 'object',
  federation: 'object',
  groupable: 'boolean',
  sentByEmail: 'boolean',
};

function checkSendInput(value: unknown): MessageInput {
  if (!isRecord(value)) {
    throw matchFailed();
  }
  for (const [key, field] of Object.entries(value)) {
    const kind = SEND_KEYS[key];
    if (!kind) {
      throw matchFailed();
    }
    if (field === undefined || field === null) {
      continue;
    }
    const ok =
      kind === 'date' ? field instanceof Date : kind === 'object' ? isRecord(field) : typeof field === kind;
    if (!ok) {
      throw matchFailed();
    }
  }
  return value as unknown as MessageInput;
}

/** Rocket.Chat's `isSystemMessage`: any `t` other than the ones users may send. */
function isSystemType(t: string | undefined): boolean {
  return t !== undefined && t !== 'e2e' && t !== 'otr' && t !== 'otr-ack';
}

export const MESSAGE_METHODS: MethodTable = {
  /**
   * RC 6/7 swallow every sendMessage error except `error-not-allowed` / `restricted-workspace`:
   * the result is then void (no `result` key), exactly like the duplicate-`_id` no-op.
   */
  sendMessage(invocation, [rawMessage]) {
    const input = checkSendInput(rawMessage);
    const user = requireUser(invocation, 'sendMessage');
    if (isSystemType(input.t)) {
      throw new Error("Cannot send system messages using 'sendMessage'");
    }
    try {
      return invocation.ctx.messages.executeSend(user, input);
    } catch (err) {
      const code = err instanceof MeteorError ? err.error : err instanceof Error ? err.message : undefined;
      if (code === 'error-not-allowed' || code === 'restricted-workspace') {
        throw new MeteorError(code, err instanceof MeteorError ? err.reason : undefined, {
          method: 'sendMessage',
        });
      }
      return undefined;
    }
  },

  updateMessage(invocation, [message]) {
    if (!isRecord(message) || typeof message['_id'] !== 'string') {
      throw matchFailed();
    }
    const user = requireUser(invocation, 'updateMessage');
    invocation.ctx.edits.update(user, message);
    return undefined;
  },

  deleteMessage(invocation, [message]) {
    if (!isRecord(message) || typeof message['_id'] !== 'string') {
      throw matchFailed();
    }
    const user = requireUser(invocation, 'deleteMessage');
    invocation.ctx.edits.delete(user, message['_id']);
    return undefined;
  },

  setReaction(invocation, [reaction, messageId, shouldReact]) {
    const emoji = checkString(reaction);
    const mid = checkString(messageId);
    const should = checkOptionalBoolean(shouldReact);
    const user = requireUser(invocation, 'setReaction');
    invocation.ctx.edits.react(user, emoji, mid, should);
    return undefined;
  },

  /** IMessage, or `null` when the message does not exist (so the `result` key is present). */
  getSingleMessage(invocation, [messageId]) {
    const mid = checkString(messageId);
    const user = requireUser(invocation, 'getSingleMessage');
    const message = invocation.ctx.store.message(mid);
    if (!message) {
      return null;
    }
    if (!canAccessRoom(invocation.ctx.store, invocation.ctx.store.room(message.rid), user._id)) {
      throw new MeteorError('error-not-allowed', 'Not allowed', { method: 'getSingleMessage' });
    }
    return message;
  },
};
