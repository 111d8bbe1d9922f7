import { describe, expect, it } from 'vitest';
import { DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS } from '../../src/config/index.js';
import {
  honoursRetryAfter,
  parseRetryAfter,
  RETRY_JITTER,
  retryDelayMs,
} from '../../src/webhooks/retry-policy.js';

const schedule = DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS;
const base = { scheduleMs: schedule, maxRetryAfterMs: 6 * 3_600_000 };

describe('retryDelayMs', () => {
  it('follows the schedule, one entry per failed attempt, then stops', () => {
    for (let i = 0; i < schedule.length; i++) {
      expect(retryDelayMs({ ...base, failedAttempts: i + 1, random: () => 0.5 })).toBe(schedule[i]);
    }
    expect(retryDelayMs({ ...base, failedAttempts: schedule.length + 1, random: () => 0.5 })).toBe(-1);
  });

  it('spreads each delay by the jitter, both ways', () => {
    const low = retryDelayMs({ ...base, failedAttempts: 2, random: () => 0 });
    const high = retryDelayMs({ ...base, failedAttempts: 2, random: () => 0.999999 });
    expect(low).toBe(Math.round(schedule[1]! * (1 - RETRY_JITTER)));
    expect(high).toBeCloseTo(schedule[1]! * (1 + RETRY_JITTER), -1);
  });

  it('waits at least what Retry-After asks, capped', () => {
    expect(retryDelayMs({ ...base, failedAttempts: 1, retryAfterMs: 60_000, random: () => 0.5 })).toBe(
      60_000,
    );
    expect(retryDelayMs({ ...base, failedAttempts: 1, retryAfterMs: 1000, random: () => 0.5 })).toBe(5000);
    expect(retryDelayMs({ ...base, failedAttempts: 1, retryAfterMs: 1e12, random: () => 0.5 })).toBe(
      6 * 3_600_000,
    );
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads delay-seconds and HTTP-dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(['5', '9'], now)).toBe(5000);
  });
  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
  it('applies to 429 and 503 only', () => {
    expect([429, 503, 500, 502, 410, 200].map(honoursRetryAfter)).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
  });
});
