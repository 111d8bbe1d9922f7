/** The SSE parser against the WHATWG rules the gateway's stream and any proxy in between may use. */
import { describe, expect, it } from 'vitest';
import { SseParser } from '../src/index.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function feed(parser: SseParser, ...chunks: string[]) {
  return chunks.flatMap((chunk) => parser.push(bytes(chunk)));
}

describe('SseParser', () => {
  it('parses frames, skips comments, joins data lines, keeps the last id', () => {
    const parser = new SseParser();
    const frames = feed(
      parser,
      'retry: 3000\n\n: heartbeat\n\nid: 1-0\nevent: message.created\ndata: {"a":\ndata: 1}\n\n',
      'data: no id or event\n\n',
    );
    expect(frames).toEqual([
      { event: 'message.created', data: '{"a":\n1}', id: '1-0' },
      { event: 'message', data: 'no id or event', id: '1-0' },
    ]);
    expect(parser.retryMs).toBe(3000);
  });

  it('handles CRLF and CR line ends split across chunks, and UTF-8 split mid-character', () => {
    const parser = new SseParser('0-1');
    const euro = bytes('data: €\r\n\r\n');
    const frames = [
      ...feed(parser, 'id: 2-0\r', '\nevent: x\r', '\ndata: a\r\r'),
      ...parser.push(euro.slice(0, 7)),
      ...parser.push(euro.slice(7)),
    ];
    expect(frames).toEqual([
      { event: 'x', data: 'a', id: '2-0' },
      { event: 'message', data: '€', id: '2-0' },
    ]);
  });

  it('ignores an id with NUL, a non-numeric retry, and dispatches nothing without data', () => {
    const parser = new SseParser('5-0');
    expect(feed(parser, 'id: bad\0id\nretry: soon\nevent: lonely\n\n', 'data\n\n')).toEqual([
      { event: 'message', data: '', id: '5-0' },
    ]);
    expect(parser.retryMs).toBeUndefined();
  });

  it('refuses a line or a frame longer than its bound instead of growing without end', () => {
    const parser = new SseParser(undefined, 100);
    expect(() => parser.push(bytes('data: '.padEnd(150, 'x')))).toThrow(RangeError);
    const frames = new SseParser(undefined, 100);
    frames.push(bytes('data: '.padEnd(60, 'x') + '\n'));
    expect(() => frames.push(bytes('data: '.padEnd(60, 'y') + '\n'))).toThrow(RangeError);
    // Within bounds, frame after frame, nothing accumulates.
    const steady = new SseParser(undefined, 100);
    for (let i = 0; i < 50; i++)
      expect(steady.push(bytes('data: '.padEnd(60, 'z') + '\n\n'))).toHaveLength(1);
  });
});
