/** Custom header checks (src/webhooks/custom-headers.ts) and opaque cursors (src/http/page-cursor.ts). */
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../src/errors.js';
import { decodeCursor, encodeCursor, pageOf } from '../../src/http/page-cursor.js';
import { parseCustomHeaders } from '../../src/webhooks/custom-headers.js';

function refused(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    return isGatewayError(err) && err.code === 'GW_ERR_VALIDATION';
  }
}

describe('parseCustomHeaders', () => {
  it('lower-cases names, trims values, and keeps a __proto__ header as a plain entry', () => {
    const headers = parseCustomHeaders(JSON.parse('{"X-Api-Key":" k ","__proto__":"p"}'));
    expect(Object.entries(headers)).toEqual([
      ['x-api-key', 'k'],
      ['__proto__', 'p'],
    ]);
    expect(Object.getPrototypeOf(headers)).toBeNull();
  });

  it('refuses every header that could reframe, redirect or re-sign the request', () => {
    for (const name of [
      'TE',
      'Trailer',
      'Keep-Alive',
      'Proxy-Authorization',
      'Content-Encoding',
      'Expect',
      'webhook-timestamp',
    ]) {
      expect(
        refused(() => parseCustomHeaders({ [name]: 'x' })),
        name,
      ).toBe(true);
    }
    expect(refused(() => parseCustomHeaders({ 'X-Ok': 'tab\tok' }))).toBe(false);
    expect(refused(() => parseCustomHeaders({ 'X-Ok': 'del\u007f' }))).toBe(true);
    expect(refused(() => parseCustomHeaders({ ['x'.repeat(65)]: 'v' }))).toBe(true);
    const big = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`x-h${i}`, 'v'.repeat(1000)]));
    expect(refused(() => parseCustomHeaders(big))).toBe(true);
    expect(refused(() => parseCustomHeaders(null))).toBe(true);
  });
});

describe('cursors', () => {
  it('round-trips a position and refuses another list, another shape, or junk', () => {
    const cursor = encodeCursor('webhooks', [1700000000000, 'wh_a']);
    expect(decodeCursor(cursor, 'webhooks', ['integer', 'string'])).toEqual([1700000000000, 'wh_a']);
    expect(decodeCursor(undefined, 'webhooks', ['integer', 'string'])).toBeUndefined();
    expect(refused(() => decodeCursor(cursor, 'hooks', ['integer', 'string']))).toBe(true);
    expect(refused(() => decodeCursor(cursor, 'webhooks', ['integer']))).toBe(true);
    expect(refused(() => decodeCursor(encodeCursor('deliveries', [-1]), 'deliveries', ['integer']))).toBe(
      true,
    );
    expect(refused(() => decodeCursor(encodeCursor('deliveries', [1.5]), 'deliveries', ['integer']))).toBe(
      true,
    );
    expect(refused(() => decodeCursor(['a'], 'webhooks', ['integer', 'string']))).toBe(true);
    expect(refused(() => decodeCursor('e30', 'webhooks', ['integer', 'string']))).toBe(true);
  });

  it('pages a sorted list after a position, even when the item at the position is gone', () => {
    const items = [1, 2, 3, 4, 5].map((n) => ({ n, id: `i${n}` }));
    const key = (item: { n: number; id: string }) => [item.n, item.id] as const;
    const first = pageOf(items, 'webhooks', key, undefined, 2);
    expect(first.items.map((i) => i.n)).toEqual([1, 2]);
    const after = decodeCursor(first.nextCursor, 'webhooks', ['integer', 'string']);
    const withoutTwo = items.filter((i) => i.n !== 2);
    expect(pageOf(withoutTwo, 'webhooks', key, after, 2).items.map((i) => i.n)).toEqual([3, 4]);
    const last = pageOf(items, 'webhooks', key, [4, 'i4'], 2);
    expect(last).toEqual({ items: [items[4]], nextCursor: null });
  });
});
