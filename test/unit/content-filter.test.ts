/**
 * The content filter as pure logic: each condition, the rules for events that carry no whole
 * message, canonical form, validation limits and messages, the `filter.*` query form, and the
 * cost promise: no parse for non-message events or unfiltered subscribers, one parse per event
 * however many filtered subscribers see it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isGatewayError } from '../../src/errors.js';
import {
  type ContentFilter,
  compileContentFilter,
  type FilterableEvent,
  parseContentFilter,
  parseFilterQuery,
  withContentFilter,
} from '../../src/events/content-filter.js';

const ME = 'meUserId00000001';

function event(type: string, data: Record<string, unknown>): FilterableEvent {
  return {
    type,
    json: JSON.stringify({ id: '1-0', type, userId: ME, ts: '2026-01-15T09:30:00.000Z', data }),
  };
}

function message(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { _id: 'm1', rid: 'GENERAL', msg: 'hi', u: { _id: 'bobId', username: 'bob' }, ...extra };
}

function keeps(filter: ContentFilter, e: FilterableEvent): boolean {
  return compileContentFilter(filter, ME)(e);
}

afterEach(() => vi.restoreAllMocks());

describe('compileContentFilter', () => {
  it('excludeOwn leaves out the user’s own messages only', () => {
    expect(
      keeps({ excludeOwn: true }, event('message.created', message({ u: { _id: ME, username: 'me' } }))),
    ).toBe(false);
    expect(keeps({ excludeOwn: true }, event('message.created', message()))).toBe(true);
  });

  it('mentionsMe keeps direct mentions of the user, not @all or @here', () => {
    const mentioning = (ids: string[]) =>
      event('message.created', message({ mentions: ids.map((_id) => ({ _id })) }));
    expect(keeps({ mentionsMe: true }, mentioning([ME]))).toBe(true);
    expect(keeps({ mentionsMe: true }, mentioning(['all', 'here']))).toBe(false);
    expect(keeps({ mentionsMe: true }, event('message.created', message()))).toBe(false);
  });

  it('threadId keeps the replies and the root, nothing else', () => {
    expect(keeps({ threadId: 'root' }, event('message.created', message({ tmid: 'root' })))).toBe(true);
    expect(keeps({ threadId: 'root' }, event('message.updated', message({ _id: 'root', tcount: 2 })))).toBe(
      true,
    );
    expect(keeps({ threadId: 'root' }, event('message.created', message({ tmid: 'other' })))).toBe(false);
  });

  it('senders match by username or user id', () => {
    expect(keeps({ senders: ['bob'] }, event('message.created', message()))).toBe(true);
    expect(keeps({ senders: ['bobId'] }, event('message.created', message()))).toBe(true);
    expect(keeps({ senders: ['carol'] }, event('message.created', message()))).toBe(false);
  });

  it('messageTypes match `t`, with plain for a message without one', () => {
    expect(keeps({ messageTypes: ['plain'] }, event('message.created', message()))).toBe(true);
    expect(keeps({ messageTypes: ['plain'] }, event('message.created', message({ t: 'uj' })))).toBe(false);
    expect(keeps({ messageTypes: ['uj', 'ul'] }, event('message.created', message({ t: 'uj' })))).toBe(true);
  });

  it('needs every condition (AND)', () => {
    const filter: ContentFilter = { excludeOwn: true, senders: ['bob'], messageTypes: ['plain'] };
    expect(keeps(filter, event('message.created', message()))).toBe(true);
    expect(keeps(filter, event('message.created', message({ t: 'uj' })))).toBe(false);
  });

  it('lets other events through, and a message event without a sender only past excludeOwn', () => {
    for (const type of ['typing', 'notification', 'user.status', 'session.unauthorized', 'outbound.sent']) {
      expect(keeps({ mentionsMe: true, senders: ['x'] }, event(type, { username: 'x' })), type).toBe(true);
    }
    const bare = event('message.deleted', { _id: 'root', rid: 'GENERAL' });
    expect(keeps({ excludeOwn: true }, bare)).toBe(true);
    expect(keeps({ threadId: 'root' }, bare)).toBe(false);
    expect(keeps({ senders: ['bob'] }, event('message.deleted', { rid: 'GENERAL', bulk: true }))).toBe(false);
    expect(keeps({ excludeOwn: true }, { type: 'message.created', json: 'not json' })).toBe(true);
  });
});

describe('cost', () => {
  it('parses a message event once however many filters see it, and other events never', () => {
    const parse = vi.spyOn(JSON, 'parse');
    const predicates = Array.from({ length: 50 }, (_, i) =>
      compileContentFilter({ senders: [`user${i}`] }, ME),
    );
    const e = event('message.created', message());
    const typing = event('typing', { username: 'bob', typing: true });
    parse.mockClear();
    for (const predicate of predicates) {
      predicate(e);
      predicate(typing);
    }
    expect(parse).toHaveBeenCalledTimes(1);
  });

  it('adds nothing to an unfiltered subscriber: the topic matcher itself is used', () => {
    const topics = (_: FilterableEvent) => true;
    expect(withContentFilter(topics, undefined)).toBe(topics);
    const filtered = withContentFilter(topics, compileContentFilter({ excludeOwn: true }, ME));
    expect(filtered).not.toBe(topics);
  });
});

describe('parseContentFilter', () => {
  function failure(input: unknown): { message: string; fields: { field: string }[] } {
    try {
      parseContentFilter(input, 'filter');
    } catch (err) {
      if (!isGatewayError(err)) throw err;
      expect(err.code).toBe('GW_ERR_VALIDATION');
      expect(err.status).toBe(400);
      return { message: err.message, fields: (err.details as { fields: { field: string }[] }).fields };
    }
    throw new Error('accepted');
  }

  it('gives the canonical form, and none for a filter that asks for nothing', () => {
    expect(
      parseContentFilter({ excludeOwn: true, mentionsMe: false, senders: ['a', 'b', 'a'] }, 'filter'),
    ).toEqual({
      excludeOwn: true,
      senders: ['a', 'b'],
    });
    expect(parseContentFilter({}, 'filter')).toBeUndefined();
    expect(parseContentFilter({ excludeOwn: false }, 'filter')).toBeUndefined();
  });

  it('refuses unknown fields, wrong types, bad values and oversized lists, naming the field', () => {
    expect(failure({ fromMe: true }).message).toMatch(/^filter: .*fromMe/);
    expect(failure({ excludeOwn: 'true' }).fields[0]!.field).toBe('filter.excludeOwn');
    expect(failure({ threadId: 'a/b' }).fields[0]!.field).toBe('filter.threadId');
    expect(failure({ senders: 'bob' }).fields[0]!.field).toBe('filter.senders');
    expect(failure({ senders: [] }).fields[0]!.field).toBe('filter.senders');
    expect(failure({ senders: ['bo b'] }).fields[0]!.field).toBe('filter.senders.0');
    expect(failure({ senders: ['x'.repeat(129)] }).fields[0]!.field).toBe('filter.senders.0');
    expect(failure({ senders: Array.from({ length: 101 }, (_, i) => `u${i}`) }).fields[0]!.field).toBe(
      'filter.senders',
    );
    expect(failure({ messageTypes: Array.from({ length: 51 }, (_, i) => `t${i}`) }).fields[0]!.field).toBe(
      'filter.messageTypes',
    );
    expect(failure({ messageTypes: ['a\nb'] }).fields[0]!.field).toBe('filter.messageTypes.0');
    expect(failure(['excludeOwn']).fields[0]!.field).toBe('filter');
  });
});

describe('parseFilterQuery', () => {
  it('reads filter.<field> parameters: flags, comma lists and repeated lists', () => {
    expect(parseFilterQuery({ topics: 'rooms' })).toBeUndefined();
    expect(
      parseFilterQuery({
        topics: 'rooms',
        'filter.excludeOwn': 'true',
        'filter.senders': ['bob,carol', 'dave'],
        'filter.messageTypes': 'plain',
        'filter.threadId': 'root1',
      }),
    ).toEqual({
      excludeOwn: true,
      threadId: 'root1',
      senders: ['bob', 'carol', 'dave'],
      messageTypes: ['plain'],
    });
  });

  it('refuses an unknown filter field, a bad flag or a repeated scalar', () => {
    expect(() => parseFilterQuery({ 'filter.nope': '1' })).toThrow(/filter/);
    expect(() => parseFilterQuery({ 'filter.mentionsMe': 'yes' })).toThrow(/filter\.mentionsMe/);
    expect(() => parseFilterQuery({ 'filter.threadId': ['a', 'b'] })).toThrow(/filter\.threadId/);
    expect(() => parseFilterQuery(Object.fromEntries([['filter.__proto__', 'x']]))).toThrow(/__proto__/);
    expect(() => parseFilterQuery({ 'filter.constructor': 'x' })).toThrow(/constructor/);
  });
});
