/**
 * The simulator's clock. Every stored timestamp (`ts`, `_updatedAt`, `_deletedAt`, token `when`)
 * comes from here.
 *
 * It is strictly monotonic: two writes never share a millisecond. Real Rocket.Chat can give two
 * messages the same `_updatedAt`, and its cursor pagination (`_updatedAt > next`) would then skip
 * one of them; the simulator avoids that so paging tests are deterministic. Under a burst (flood)
 * the clock runs ahead of the wall clock by at most one millisecond per write and catches up after.
 */
export interface Clock {
  /** Milliseconds since the epoch, strictly greater than the previous call. */
  now(): number;
  /** Same as `new Date(now())`. */
  date(): Date;
}

export function createMonotonicClock(wallClock: () => number = Date.now): Clock {
  let last = 0;
  const now = (): number => {
    const wall = wallClock();
    last = wall > last ? wall : last + 1;
    return last;
  };
  return { now, date: () => new Date(now()) };
}
