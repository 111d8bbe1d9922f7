/**
 * Reconnect delays: exponential with "equal jitter" (half fixed, half random), so a fleet of
 * consumers cut off by one gateway restart does not come back in lockstep, yet none retries at
 * once in a tight loop.
 */

export interface BackoffOptions {
  /** The first delay. @defaultValue 500 */
  readonly initialDelayMs?: number;
  /** The longest delay. @defaultValue 30000 */
  readonly maxDelayMs?: number;
  /** Random source in [0, 1), replaceable for tests. @defaultValue Math.random */
  readonly random?: () => number;
}

export class Backoff {
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initialDelayMs = options.initialDelayMs ?? 500;
    this.#maxDelayMs = options.maxDelayMs ?? 30_000;
    this.#random = options.random ?? Math.random;
    if (!(this.#initialDelayMs > 0) || !(this.#maxDelayMs >= this.#initialDelayMs)) {
      throw new RangeError('backoff needs 0 < initialDelayMs <= maxDelayMs');
    }
  }

  /** The delay before the next attempt; each call doubles the ceiling up to `maxDelayMs`. */
  next(): number {
    const ceiling = Math.min(this.#maxDelayMs, this.#initialDelayMs * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    return Math.round(ceiling / 2 + (ceiling / 2) * this.#random());
  }

  /** After a success: the next failure starts from the first delay again. */
  reset(): void {
    this.#attempt = 0;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
