/**
 * A bound on a call through the router. `CallRouter.call` honours its timeout once a session
 * exists, but opening a session to an unreachable Rocket.Chat retries (the DDP client's
 * `connect()` never gives up) and the call would wait with it. Past the deadline the caller is
 * told Rocket.Chat is unreachable (503); the abandoned call may still go out later, which is
 * harmless for what goes through here (fixed message ids, idempotent edits, explicit reactions,
 * and a method call whose caller was told it failed).
 */
import { type Clock, systemClock } from '../clock.js';
import { createError } from '../errors.js';
import type { CallRouter } from '../sessions/call-router.js';

/** Added to the call's own timeout: a timeout of the call itself (504) wins over this one. */
const GRACE_MS = 1000;

export async function callWithDeadline(
  calls: Pick<CallRouter, 'call'>,
  userId: string,
  method: string,
  params: readonly unknown[],
  timeoutMs: number,
  clock: Clock = systemClock,
): Promise<unknown> {
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = clock.setTimeout(() => {
      reject(createError('GW_ERR_UPSTREAM_UNAVAILABLE', 'no session to Rocket.Chat could be opened in time'));
    }, timeoutMs + GRACE_MS);
  });
  try {
    return await Promise.race([calls.call(userId, method, params, timeoutMs), deadline]);
  } finally {
    clock.clearTimeout(timer);
  }
}
