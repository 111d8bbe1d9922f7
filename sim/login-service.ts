/**
 * The `login` method's handlers (Meteor accounts-base `resume`, accounts-password, RC `totp`
 * wrapper), shared by DDP `login` and REST `/api/v1/login`.
 *
 * Error choices: password failures are `401 "User not found"` (RC ≥ 6 loginErrorMessageOverride;
 * older servers said 403). Resume failures keep Meteor's 403 texts unless `maskLoginErrors` is set,
 * in which case they are `401 "User not found"` like every other failure on the RC ≥ 6 monolith.
 */
import type { LoginToken } from './auth.js';
import type { SimContext } from './context.js';
import { type Flavor, STREAMER_LOGIN_FAILED } from './flavor.js';
import { MeteorError, matchFailed } from './meteor-error.js';
import { isRecord } from './method-helpers.js';
import type { SimUser } from './types.js';

export interface LoginOutcome {
  user: SimUser;
  login: LoginToken;
  type: 'resume' | 'password';
}

const LOGGED_OUT = "You've been logged out by the server. Please log in again.";
const SESSION_EXPIRED = 'Your session has expired. Please log in again.';

function userNotFound(): MeteorError {
  return new MeteorError(401, 'User not found');
}

/** The ddp-streamer answers every failed login alike, an e-mail login included. */
function streamerLoginFailed(): MeteorError {
  return new MeteorError(403, STREAMER_LOGIN_FAILED);
}

function findUser(ctx: SimContext, selector: unknown): SimUser | undefined {
  if (typeof selector === 'string') {
    return selector.includes('@') ? ctx.store.userByEmail(selector) : ctx.store.userByUsername(selector);
  }
  if (!isRecord(selector) || Object.keys(selector).length !== 1) {
    throw matchFailed();
  }
  const { username, email, id } = selector;
  if (typeof username === 'string') {
    return ctx.store.userByUsername(username);
  }
  if (typeof email === 'string') {
    return ctx.store.userByEmail(email);
  }
  if (typeof id === 'string') {
    return ctx.store.userById(id);
  }
  throw matchFailed();
}

function describeAttempt(selector: unknown): string {
  if (typeof selector === 'string') {
    return selector;
  }
  if (isRecord(selector)) {
    const value = selector['username'] ?? selector['email'] ?? selector['id'];
    return typeof value === 'string' ? value : '(invalid)';
  }
  return '(invalid)';
}

function resumeLogin(ctx: SimContext, token: unknown, channel: 'ddp' | 'rest', flavor: Flavor): LoginOutcome {
  if (typeof token !== 'string') {
    throw matchFailed();
  }
  const found = ctx.auth.lookup(token);
  if (found.status === 'valid') {
    ctx.auth.recordAttempt(found.user.username, channel, true);
    return { user: found.user, login: found.login, type: 'resume' };
  }
  const username =
    found.status === 'expired'
      ? found.user.username
      : found.formerUserId
        ? (ctx.store.userById(found.formerUserId)?.username ?? '(unknown-token)')
        : '(unknown-token)';
  ctx.auth.recordAttempt(username, channel, false);
  if (flavor === 'streamer') {
    throw streamerLoginFailed();
  }
  if (ctx.options.maskLoginErrors) {
    throw userNotFound();
  }
  throw new MeteorError(403, found.status === 'expired' ? SESSION_EXPIRED : LOGGED_OUT);
}

function passwordLogin(
  ctx: SimContext,
  request: Record<string, unknown>,
  channel: 'ddp' | 'rest',
  flavor: Flavor,
): LoginOutcome {
  const selector = request['user'];
  const byEmail =
    flavor === 'streamer' &&
    (isRecord(selector) ? 'email' in selector : typeof selector === 'string' && selector.includes('@'));
  const user = byEmail ? undefined : findUser(ctx, selector);
  const ok = user?.active === true && ctx.auth.checkPassword(user, request['password']);
  ctx.auth.recordAttempt(user?.username ?? describeAttempt(selector), channel, ok);
  if (!user || !ok) {
    throw flavor === 'streamer' ? streamerLoginFailed() : userNotFound();
  }
  return {
    user,
    login: ctx.auth.issue(user._id, flavor === 'streamer' ? 'uuid' : 'meteor'),
    type: 'password',
  };
}

/** `flavor` is the DDP server's; REST is always served by Rocket.Chat's Meteor app. */
export function performLogin(
  ctx: SimContext,
  request: unknown,
  channel: 'ddp' | 'rest',
  flavor: Flavor = 'meteor',
): LoginOutcome {
  if (!isRecord(request)) {
    throw matchFailed();
  }
  let options = request;
  // RC 2FA wrapper `{totp: {login, code}}`: seeded users have no 2FA, so the code is not checked.
  if (isRecord(options['totp']) && isRecord(options['totp']['login'])) {
    options = options['totp']['login'];
  }
  if ('resume' in options) {
    return resumeLogin(ctx, options['resume'], channel, flavor);
  }
  if ('password' in options && 'user' in options) {
    return passwordLogin(ctx, options, channel, flavor);
  }
  // Meteor: "Unrecognized options for login request" (400), masked to 401 by RC.
  throw flavor === 'streamer' ? streamerLoginFailed() : userNotFound();
}
