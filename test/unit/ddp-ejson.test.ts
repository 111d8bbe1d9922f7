import { describe, expect, it } from 'vitest';
import { decodeEjson, ejsonToJson, encodeEjson } from '../../src/ddp/ejson.js';

describe('EJSON', () => {
  it('decodes dates anywhere in a structure, including inside stream args', () => {
    const wire = { args: [{ ts: { $date: 1732550000000 }, nested: [{ at: { $date: 0 } }] }] };
    const decoded = decodeEjson(wire) as { args: [{ ts: Date; nested: [{ at: Date }] }] };
    expect(decoded.args[0].ts).toBeInstanceOf(Date);
    expect(decoded.args[0].ts.getTime()).toBe(1732550000000);
    expect(decoded.args[0].nested[0].at.getTime()).toBe(0);
  });

  it('renders dates as ISO-8601 strings for the gateway envelope', () => {
    expect(ejsonToJson({ _updatedAt: { $date: 1732550000123 } })).toEqual({
      _updatedAt: '2024-11-25T15:53:20.123Z',
    });
  });

  it('returns the very same object when there is nothing to decode (no copy on the hot path)', () => {
    const plain = { a: [1, 2, { b: 'c' }] };
    expect(decodeEjson(plain)).toBe(plain);
  });

  it('does not mutate its input', () => {
    const wire = { ts: { $date: 5 } };
    decodeEjson(wire);
    expect(wire).toEqual({ ts: { $date: 5 } });
  });

  it('handles binary, NaN/Infinity, regexps and escapes', () => {
    expect(decodeEjson({ $binary: Buffer.from('hi').toString('base64') })).toEqual(Buffer.from('hi'));
    expect(decodeEjson({ $InfNaN: 0 })).toBeNaN();
    expect(decodeEjson({ $InfNaN: -1 })).toBe(-Infinity);
    expect(decodeEjson({ $regexp: 'a.b', $flags: 'i' })).toEqual(/a.b/i);
    expect(decodeEjson({ $escape: { $date: { $date: 7 } } })).toEqual({ $date: new Date(7) });
  });

  it('leaves objects that merely resemble EJSON alone', () => {
    const query = { $gte: { $date: 1 }, $lte: { $date: 2 } };
    expect(decodeEjson(query)).toEqual({ $gte: new Date(1), $lte: new Date(2) });
    expect(decodeEjson({ $date: 'not a number' })).toEqual({ $date: 'not a number' });
  });

  it('encodes dates, buffers and non-finite numbers, and escapes look-alikes', () => {
    expect(encodeEjson([{ rid: 'GENERAL' }, { $date: 5 }, new Date(9)])).toEqual([
      { rid: 'GENERAL' },
      { $escape: { $date: 5 } },
      { $date: 9 },
    ]);
    expect(encodeEjson({ n: Number.POSITIVE_INFINITY, b: Buffer.from('x') })).toEqual({
      n: { $InfNaN: 1 },
      b: { $binary: 'eA==' },
    });
  });

  it('round-trips', () => {
    const value = { when: new Date(123), list: [new Date(4), 'x'], literal: { $date: 1 } };
    expect(decodeEjson(JSON.parse(JSON.stringify(encodeEjson(value))))).toEqual(value);
  });
});
