import { describe, expect, it } from 'vitest';
import { compareStreamIds, parseStreamId } from '../../src/events/stream-id.js';

// compareStreamIds scans by hand (it runs per live event per SSE client); it must order and
// refuse exactly as the parser does.
const IDS = [
  '0-0',
  '0-1',
  '1-0',
  '9-10',
  '10-2',
  '01-1',
  '1-01',
  '0000000000000005-3',
  '1700000000000-0',
  '1700000000000-15',
  '9007199254740991-1',
  // Refused: unsafe, too long, malformed, or a smuggled line break.
  '9007199254740992-0',
  '99999999999999999-0',
  '1-',
  '-1',
  '1--1',
  'a-1',
  '1-1\n',
  '1',
  '',
  '1-1-1',
  '1-+1',
];

function byParser(a: string, b: string): number | 'refused' {
  const x = parseStreamId(a);
  const y = parseStreamId(b);
  if (!x || !y) return 'refused';
  return Math.sign(x.ms - y.ms || x.seq - y.seq);
}

describe('compareStreamIds', () => {
  it('orders by milliseconds then sequence, numerically, and refuses what parseStreamId refuses', () => {
    for (const a of IDS) {
      for (const b of IDS) {
        let compared: number | 'refused';
        try {
          compared = Math.sign(compareStreamIds(a, b));
        } catch (err) {
          expect(err).toBeInstanceOf(RangeError);
          compared = 'refused';
        }
        expect({ a, b, compared }).toEqual({ a, b, compared: byParser(a, b) });
      }
    }
    expect(compareStreamIds('9-10', '10-2')).toBeLessThan(0);
    expect(compareStreamIds('5-3', '0000000000000005-3')).toBe(0);
  });
});
