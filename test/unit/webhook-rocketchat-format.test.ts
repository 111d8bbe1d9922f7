/**
 * The Rocket.Chat outgoing-integration body and reply rules (src/webhooks/rocketchat-format.ts),
 * checked against what Rocket.Chat's triggerHandler.ts does: which fields appear when, which
 * responses post a message back and which do not.
 */
import { describe, expect, it } from 'vitest';
import { envelopeJson } from '../../src/events/event-log.js';
import {
  messageFactsOf,
  parseRocketChatReply,
  renderRocketChatBody,
} from '../../src/webhooks/rocketchat-format.js';

const context = {
  token: 'tok-12345678',
  siteUrl: 'https://chat.example.org',
  channelName: 'general',
  isGatewayReply: false,
};

function envelope(type: string, data: unknown, roomId = 'GENERAL'): string {
  return envelopeJson(
    '1700000000000-0',
    type,
    `"userId":"owner","roomId":"${roomId}","ts":"2026-01-01T00:00:00.000Z","data":${JSON.stringify(data)}}`,
  );
}

const message = {
  _id: 'm1',
  rid: 'GENERAL',
  msg: 'hi',
  ts: '2026-01-01T00:00:00.000Z',
  u: { _id: 'u1', username: 'bob', name: 'Bob' },
};

describe('renderRocketChatBody', () => {
  it('adds alias, bot, isEdited and tmid only when the message has them, as Rocket.Chat does', () => {
    const plain = JSON.parse(renderRocketChatBody(envelope('message.created', message), context)!);
    expect(plain).not.toHaveProperty('alias');
    expect(plain).not.toHaveProperty('isEdited');
    expect(plain).not.toHaveProperty('tmid');
    expect(plain.bot).toBe(false);
    const rich = JSON.parse(
      renderRocketChatBody(
        envelope('message.updated', {
          ...message,
          alias: 'Build',
          bot: { i: 'integration' },
          editedAt: '2026-01-01T00:01:00.000Z',
          tmid: 'root1',
        }),
        context,
      )!,
    );
    expect(rich).toMatchObject({ alias: 'Build', bot: true, isEdited: true, tmid: 'root1' });
    // Key order as Rocket.Chat builds the object: the optional ones after siteUrl.
    expect(Object.keys(rich).slice(-4)).toEqual(['siteUrl', 'alias', 'isEdited', 'tmid']);
  });

  it("marks the gateway's own replies as bot messages and leaves channel_name out when unknown", () => {
    const body = JSON.parse(
      renderRocketChatBody(envelope('message.created', message), {
        ...context,
        isGatewayReply: true,
        channelName: undefined,
      })!,
    );
    expect(body.bot).toBe(true);
    expect(body).not.toHaveProperty('channel_name');
  });

  it('has no body for events outgoing integrations do not have, and one for webhook.test', () => {
    expect(renderRocketChatBody(envelope('message.deleted', message), context)).toBeUndefined();
    expect(renderRocketChatBody(envelope('typing', {}), context)).toBeUndefined();
    expect(renderRocketChatBody('not json', context)).toBeUndefined();
    const test = JSON.parse(renderRocketChatBody(envelope('webhook.test', { message: 'hello' }), context)!);
    expect(test).toMatchObject({
      token: 'tok-12345678',
      bot: false,
      text: 'hello',
      siteUrl: context.siteUrl,
    });
  });

  it('finds the message and room of message events only', () => {
    expect(messageFactsOf(envelope('message.created', message))).toEqual({
      messageId: 'm1',
      roomId: 'GENERAL',
    });
    expect(messageFactsOf(envelope('notification', message))).toBeUndefined();
    expect(messageFactsOf(envelope('message.created', { msg: 'no id' }))).toBeUndefined();
  });
});

describe('parseRocketChatReply', () => {
  const json = 'application/json; charset=utf-8';

  it('posts text or attachments from a 200, 201 or 202 JSON body, with alias, emoji and tmid', () => {
    for (const status of [200, 201, 202]) {
      expect(parseRocketChatReply(status, json, '{"text":"pong"}')).toEqual({
        kind: 'message',
        send: { text: 'pong' },
      });
    }
    expect(
      parseRocketChatReply(
        200,
        'text/javascript',
        '{"text":"a","alias":"Bot","emoji":":robot:","tmid":"root1","channel":"#x"}',
      ),
    ).toEqual({ kind: 'message', send: { text: 'a', alias: 'Bot', emoji: ':robot:', threadId: 'root1' } });
    expect(parseRocketChatReply(200, json, '{"attachments":[{"title":"t"}]}')).toEqual({
      kind: 'message',
      send: { text: '', attachments: [{ title: 't' }] },
    });
  });

  it('posts nothing for other statuses, other types, bad JSON or nothing to say', () => {
    const none = { kind: 'none' };
    expect(parseRocketChatReply(204, json, '{"text":"x"}')).toEqual(none);
    expect(parseRocketChatReply(203, json, '{"text":"x"}')).toEqual(none);
    expect(parseRocketChatReply(500, json, '{"text":"x"}')).toEqual(none);
    expect(parseRocketChatReply(200, 'text/plain', '{"text":"x"}')).toEqual(none);
    expect(parseRocketChatReply(200, undefined, '{"text":"x"}')).toEqual(none);
    expect(parseRocketChatReply(200, json, '{"text":')).toEqual(none);
    expect(parseRocketChatReply(200, json, '["text"]')).toEqual(none);
    expect(parseRocketChatReply(200, json, '{"text":"   "}')).toEqual(none);
    expect(parseRocketChatReply(200, json, '{"text":42}')).toEqual(none);
    expect(parseRocketChatReply(200, json, undefined)).toEqual(none);
  });

  it('refuses replies Rocket.Chat would not accept, and drops unsafe optional fields', () => {
    expect(parseRocketChatReply(200, json, JSON.stringify({ text: 'x'.repeat(5001) })).kind).toBe('invalid');
    expect(parseRocketChatReply(200, json, '{"attachments":["not an object"]}').kind).toBe('invalid');
    expect(parseRocketChatReply(200, json, '{"text":"ok","emoji":"<img>","tmid":"../x"}')).toEqual({
      kind: 'message',
      send: { text: 'ok' },
    });
  });
});
