/** Reconnect delays: growing, bounded, jittered, and back to the start after a success. */
import { describe, expect, it } from 'vitest';
import { Backoff } from '../src/index.js';

describe('Backoff', () => {
  it('doubles its ceiling up to the maximum, each delay between half the ceiling and the ceiling', () => {
    const low = new Backoff({ initialDelayMs: 100, maxDelayMs: 1000, random: () => 0 });
    const high = new Backoff({ initialDelayMs: 100, maxDelayMs: 1000, random: () => 0.999999 });
    expect(Array.from({ length: 6 }, () => low.next())).toEqual([50, 100, 200, 400, 500, 500]);
    expect(Array.from({ length: 6 }, () => high.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('starts again from the first delay after reset()', () => {
    const backoff = new Backoff({ initialDelayMs: 100, maxDelayMs: 1000, random: () => 0 });
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(50);
  });

  it('refuses bounds that make no sense', () => {
    expect(() => new Backoff({ initialDelayMs: 0 })).toThrow(RangeError);
    expect(() => new Backoff({ initialDelayMs: 500, maxDelayMs: 100 })).toThrow(RangeError);
  });
});
