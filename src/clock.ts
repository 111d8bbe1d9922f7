/**
 * Time, injected. Logic takes a `Clock` instead of calling `Date.now()` or `setTimeout` so unit
 * tests can move time by hand (pino's pluggable `lib/time.js`, undici's `tick()` in
 * `lib/util/timers.js`). `systemClock` is the real one; `createManualClock()` is for tests.
 */

/** What a timer returns. Node's `Timeout` fits; `unref()` lets a timer not hold the process open. */
export interface TimerHandle {
  ref(): TimerHandle;
  unref(): TimerHandle;
  hasRef(): boolean;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(callback: () => void, intervalMs: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
  setInterval: (callback, intervalMs) => setInterval(callback, intervalMs),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout | undefined),
};

/**
 * Resolves after `delayMs` on `clock`. Rejects with the signal's reason when `signal` aborts,
 * and clears its timer then, so an aborted wait leaves nothing behind.
 */
export function delay(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A clock that stands still until a test moves it. */
export interface ManualClock extends Clock {
  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, earliest first
   * (ties in the order they were set), with `now()` reading each timer's due time while it runs.
   * Timers set by a callback fire in the same call if they fall due within the window.
   * A callback that throws stops the advance there; the error propagates.
   */
  advance(ms: number): void;
  /**
   * As `advance`, but lets promise continuations run before each timer and after the last, so
   * code that awaits `delay()` in a loop makes progress within one call.
   */
  advanceAsync(ms: number): Promise<void>;
  /** How many timers are waiting (intervals count once). */
  pendingTimers(): number;
}

interface ManualTimer {
  dueAt: number;
  order: number;
  readonly intervalMs: number | undefined;
  readonly callback: () => void;
}

// Node runs a delay below 1 ms, above this, or not a number, after 1 ms; the manual clock
// behaves the same so tests see what production would.
const TIMEOUT_MAX_MS = 2 ** 31 - 1;

function normalizeDelay(ms: number): number {
  return ms >= 1 && ms <= TIMEOUT_MAX_MS ? ms : 1;
}

class ManualTimerHandle implements TimerHandle {
  ref(): TimerHandle {
    return this;
  }
  unref(): TimerHandle {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
}

export function createManualClock(startMs = 0): ManualClock {
  let now = startMs;
  let nextOrder = 0;
  const timers = new Map<TimerHandle, ManualTimer>();

  const schedule = (callback: () => void, ms: number, intervalMs: number | undefined): TimerHandle => {
    const handle = new ManualTimerHandle();
    timers.set(handle, { dueAt: now + normalizeDelay(ms), order: nextOrder++, intervalMs, callback });
    return handle;
  };

  const clear = (handle: TimerHandle | undefined): void => {
    if (handle !== undefined) timers.delete(handle);
  };

  /** The next timer due at or before `until`, or undefined. */
  const takeDue = (until: number): ManualTimer | undefined => {
    let next: [TimerHandle, ManualTimer] | undefined;
    for (const entry of timers) {
      const timer = entry[1];
      if (timer.dueAt > until) continue;
      if (
        !next ||
        timer.dueAt < next[1].dueAt ||
        (timer.dueAt === next[1].dueAt && timer.order < next[1].order)
      ) {
        next = entry;
      }
    }
    if (!next) return undefined;
    const [handle, timer] = next;
    now = timer.dueAt;
    if (timer.intervalMs === undefined) {
      timers.delete(handle);
    } else {
      timer.dueAt += timer.intervalMs;
      timer.order = nextOrder++;
    }
    return timer;
  };

  const checkStep = (ms: number): number => {
    if (!(ms >= 0)) throw new RangeError(`advance needs a non-negative number of ms (got ${ms})`);
    return now + ms;
  };

  return {
    now: () => now,
    setTimeout: (callback, delayMs) => schedule(callback, delayMs, undefined),
    clearTimeout: clear,
    setInterval: (callback, intervalMs) => schedule(callback, intervalMs, normalizeDelay(intervalMs)),
    clearInterval: clear,
    advance(ms) {
      const until = checkStep(ms);
      for (let timer = takeDue(until); timer; timer = takeDue(until)) timer.callback();
      now = until;
    },
    async advanceAsync(ms) {
      const until = checkStep(ms);
      await flushPromises();
      for (let timer = takeDue(until); timer; timer = takeDue(until)) {
        timer.callback();
        await flushPromises();
      }
      now = until;
    },
    pendingTimers: () => timers.size,
  };
}

// The real event loop, on purpose: a macrotask turn runs every queued promise continuation,
// however deeply chained, which a fixed number of `await`s would not.
function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
