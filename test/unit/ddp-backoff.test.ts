import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../src/ddp/backoff.js';

describe('reconnect backoff', () => {
  it('grows exponentially up to the cap, scaled by the jitter', () => {
    const top = () => 0.999999;
    const delays = [0, 1, 2, 3, 10].map((a) =>
      backoffDelayMs(a, { initialDelayMs: 100, maxDelayMs: 1000, random: top }),
    );
    expect(delays).toEqual([99, 199, 399, 799, 999]);
  });

  it('spreads delays over [0, ceiling) (full jitter)', () => {
    expect(backoffDelayMs(3, { initialDelayMs: 100, maxDelayMs: 10_000, random: () => 0 })).toBe(0);
    expect(backoffDelayMs(3, { initialDelayMs: 100, maxDelayMs: 10_000, random: () => 0.5 })).toBe(400);
  });

  it('stays at the cap after thousands of attempts', () => {
    expect(backoffDelayMs(5000, { initialDelayMs: 500, maxDelayMs: 30_000, random: () => 0.5 })).toBe(15_000);
  });
});
