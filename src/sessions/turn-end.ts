/**
 * One promise for the end of the current turn of the event loop (a single `setImmediate`, after
 * the turn's I/O callbacks), shared by everyone who asks during the turn.
 *
 * Why: when Rocket.Chat broadcasts a room message, every member's session receives its frame in
 * a socket callback of its own, and a Redis command sent from each callback leaves in a write of
 * its own: ioredis flushes its auto-pipeline at the end of the callback (`process.nextTick`).
 * With 1,000 sessions that was 1,000 `write` syscalls per message, a fifth of the worker's busy
 * time, paid while the rest of the frames waited (bench/RESULTS.md, sessions at 1,000 users).
 * Work that waits for the turn's end resumes together, in one run of promise continuations, so
 * its commands leave in one write.
 */
let turnEnd: Promise<void> | undefined;

export function endOfTurn(): Promise<void> {
  turnEnd ??= new Promise((resolve) => {
    setImmediate(() => {
      turnEnd = undefined;
      resolve();
    });
  });
  return turnEnd;
}
