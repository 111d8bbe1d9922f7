/**
 * Reconnect delays: exponential with "full jitter" (AWS Architecture Blog, "Exponential Backoff
 * and Jitter"): the delay is uniform in [0, min(cap, base * 2^attempt)], so a fleet of sessions
 * dropped together by one server restart does not come back in lockstep.
 */
export interface BackoffOptions {
  /** @defaultValue 500 */
  readonly initialDelayMs?: number;
  /** @defaultValue 30000 */
  readonly maxDelayMs?: number;
  /** Source of randomness in [0, 1); injectable for tests. @defaultValue Math.random */
  readonly random?: () => number;
}

export function backoffDelayMs(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialDelayMs ?? 500;
  const cap = options.maxDelayMs ?? 30_000;
  const random = options.random ?? Math.random;
  // 2^attempt overflows to Infinity past ~1000 attempts; Math.min keeps it at the cap.
  const ceiling = Math.min(cap, initial * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}
