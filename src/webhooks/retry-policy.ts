/**
 * When a failed delivery is tried again. The schedule is Svix's by default
 * (`config.webhooks.retryScheduleMs`: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), each delay
 * spread by +-20 % jitter so that the deliveries that failed together during an outage do not all
 * come back in the same second. A receiver that answers 429 or 503 with `Retry-After` (RFC 9110
 * section 10.2.3) is not retried before the time it asked for, capped so that no receiver can
 * park a delivery for longer than the operator allows.
 */

/** Jitter as a fraction of the delay: the delay is drawn from [d * (1 - J), d * (1 + J)]. */
export const RETRY_JITTER = 0.2;

export interface RetryDelayInput {
  /** Failed attempts so far, the one just made included (1 after the first failure). */
  readonly failedAttempts: number;
  readonly scheduleMs: readonly number[];
  /** What the receiver asked for, if it did (already capped by the caller or by `maxRetryAfterMs`). */
  readonly retryAfterMs?: number | undefined;
  readonly maxRetryAfterMs: number;
  /** [0, 1); injected for tests. @defaultValue Math.random */
  readonly random?: () => number;
}

/** The delay before the next attempt, or -1 when the schedule is exhausted. */
export function retryDelayMs(input: RetryDelayInput): number {
  const base = input.scheduleMs[input.failedAttempts - 1];
  if (base === undefined) return -1;
  const random = input.random ?? Math.random;
  const jittered = Math.round(base * (1 - RETRY_JITTER + 2 * RETRY_JITTER * random()));
  if (input.retryAfterMs === undefined) return jittered;
  return Math.max(jittered, Math.min(input.retryAfterMs, input.maxRetryAfterMs));
}

/**
 * A `Retry-After` value in ms from now: delay-seconds or an HTTP-date. Undefined when absent or
 * unreadable (a garbled header is ignored, not trusted).
 */
export function parseRetryAfter(
  value: string | readonly string[] | undefined,
  nowMs: number,
): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  // Only the IMF-fixdate that RFC 9110 (section 5.6.7) has senders use, `Wed, 21 Oct 2015
  // 07:28:00 GMT`: Date.parse reads much else that is not a date here (`-5` is the year -5).
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return undefined;
  const at = Date.parse(text);
  if (!Number.isFinite(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Statuses whose `Retry-After` is honoured (RFC 9110: 503; RFC 6585: 429). */
export function honoursRetryAfter(statusCode: number): boolean {
  return statusCode === 429 || statusCode === 503;
}
