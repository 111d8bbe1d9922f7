/**
 * A single `UserSession` outside any pool, on a test core's Redis and the simulator: for tests
 * of what one session does with upstream frames.
 */
import type { Simulator } from '../../sim/index.js';
import { UserSession, type UserSessionOptions } from '../../src/sessions/user-session.js';
import type { TestCore } from './test-core.js';

export function standaloneSession(
  core: TestCore,
  sim: Simulator,
  username: string,
  options: Partial<UserSessionOptions> = {},
): UserSession {
  const { userId, authToken } = sim.control.tokenFor(username);
  return new UserSession({
    userId,
    token: authToken,
    ddpUrl: core.config.rocketchat.ddpUrl,
    eventLog: core.eventLog,
    rest: core.rest,
    lingerMs: 1000,
    // No pool, no lease: generation 0 is fenced by the first lease any worker takes.
    leaseGeneration: 0,
    ...options,
  });
}
