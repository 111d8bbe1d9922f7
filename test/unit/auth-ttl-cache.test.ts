import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { TtlCache } from '../../src/http/auth/ttl-cache.js';

describe('TtlCache', () => {
  it('serves an entry until its TTL ends', () => {
    const clock = createManualClock(0);
    const cache = new TtlCache<string>({ maxEntries: 10, ttlMs: 30_000, clock });
    cache.set('a', 'A');
    clock.advance(29_999);
    expect(cache.get('a')).toBe('A');
    clock.advance(1);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('evicts the least recently used entry when full', () => {
    const clock = createManualClock(0);
    const cache = new TtlCache<number>({ maxEntries: 2, ttlMs: 1000, clock });
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recently used
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
  });

  it('setting again restarts the TTL; deleteWhere removes matching entries', () => {
    const clock = createManualClock(0);
    const cache = new TtlCache<{ user: string }>({ maxEntries: 10, ttlMs: 1000, clock });
    cache.set('a', { user: 'u1' });
    clock.advance(900);
    cache.set('a', { user: 'u1' });
    cache.set('b', { user: 'u2' });
    clock.advance(900);
    expect(cache.get('a')).toEqual({ user: 'u1' });
    cache.deleteWhere((value) => value.user === 'u1');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toEqual({ user: 'u2' });
  });

  it('rejects nonsense bounds', () => {
    const clock = createManualClock(0);
    expect(() => new TtlCache({ maxEntries: 0, ttlMs: 1, clock })).toThrow(RangeError);
    expect(() => new TtlCache({ maxEntries: 1, ttlMs: 0, clock })).toThrow(RangeError);
  });
});
