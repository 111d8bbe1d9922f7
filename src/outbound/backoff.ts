/**
 * How long an outbound job waits before its next attempt after an upstream outage or an
 * unknown outcome (rate limits wait exactly what Rocket.Chat names instead).
 */

/** Exponential from 500 ms, capped, with ±20% jitter so a recovering Rocket.Chat is not hit in step. */
export function outboundBackoffMs(
  attemptsMade: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(maxMs, 500 * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}
