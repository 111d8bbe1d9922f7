/**
 * Login tokens and credential checks (Meteor accounts-base / accounts-password semantics).
 *
 * A token is valid until `when + tokenLifetimeMs` (setting `Accounts_LoginExpiration`, 90 days).
 * Revoked tokens are forgotten (Meteor removes them from `services.resume.loginTokens`); the
 * simulator remembers whose they were only to attribute later login attempts in its statistics.
 */
import { createHash } from 'node:crypto';
import type { Clock } from './clock.js';
import { uuidV4 } from './flavor.js';
import { randomSecret } from './ids.js';
import type { Store } from './store.js';
import type { SimUser } from './types.js';

export interface LoginToken {
  token: string;
  userId: string;
  when: Date;
}

export type TokenLookup =
  | { status: 'valid'; login: LoginToken; user: SimUser }
  | { status: 'expired'; login: LoginToken; user: SimUser }
  | { status: 'unknown'; formerUserId?: string };

export interface LoginAttemptStats {
  ddp: number;
  rest: number;
  failed: number;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export class AuthService {
  private readonly tokens = new Map<string, LoginToken>();
  private readonly retired = new Map<string, string>();
  private readonly attempts = new Map<string, LoginAttemptStats>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly tokenLifetimeMs: number,
  ) {}

  /** `uuid`: the streamer's resume tokens (uuid v4); Meteor's are 43-character secrets. */
  issue(userId: string, shape: 'meteor' | 'uuid' = 'meteor'): LoginToken {
    const token = shape === 'uuid' ? uuidV4() : randomSecret();
    const login: LoginToken = { token, userId, when: this.clock.date() };
    this.tokens.set(login.token, login);
    return login;
  }

  expiresAt(login: LoginToken): Date {
    return new Date(login.when.getTime() + this.tokenLifetimeMs);
  }

  lookup(token: string): TokenLookup {
    const login = this.tokens.get(token);
    const user = login && this.store.userById(login.userId);
    if (!login || !user) {
      const formerUserId = this.retired.get(token);
      return formerUserId ? { status: 'unknown', formerUserId } : { status: 'unknown' };
    }
    if (this.expiresAt(login).getTime() <= Date.now()) {
      return { status: 'expired', login, user };
    }
    return { status: 'valid', login, user };
  }

  /** Backdates every token of the user past its lifetime. */
  expireAll(userId: string): number {
    let count = 0;
    for (const login of this.tokens.values()) {
      if (login.userId === userId) {
        login.when = new Date(Date.now() - this.tokenLifetimeMs - 1);
        count += 1;
      }
    }
    return count;
  }

  /** Removes every token of the user; returns the removed token strings. */
  revokeAll(userId: string): string[] {
    const removed: string[] = [];
    for (const [token, login] of this.tokens) {
      if (login.userId === userId) {
        this.tokens.delete(token);
        this.retired.set(token, userId);
        removed.push(token);
      }
    }
    return removed;
  }

  revoke(token: string): void {
    const login = this.tokens.get(token);
    if (login) {
      this.tokens.delete(token);
      this.retired.set(token, login.userId);
    }
  }

  /** accounts-password: `{digest, algorithm: "sha-256"}` or a plain string (hashed server-side). */
  checkPassword(user: SimUser, password: unknown): boolean {
    if (typeof password === 'string') {
      return sha256Hex(password) === user.passwordDigest;
    }
    if (password && typeof password === 'object') {
      const { digest, algorithm } = password as { digest?: unknown; algorithm?: unknown };
      return (
        algorithm === 'sha-256' && typeof digest === 'string' && digest.toLowerCase() === user.passwordDigest
      );
    }
    return false;
  }

  recordAttempt(username: string, channel: 'ddp' | 'rest', ok: boolean): void {
    const stats = this.attempts.get(username) ?? { ddp: 0, rest: 0, failed: 0 };
    stats[channel] += 1;
    if (!ok) {
      stats.failed += 1;
    }
    this.attempts.set(username, stats);
  }

  attemptsOf(username: string): LoginAttemptStats {
    return { ...(this.attempts.get(username) ?? { ddp: 0, rest: 0, failed: 0 }) };
  }

  allAttempts(): Record<string, LoginAttemptStats> {
    return Object.fromEntries([...this.attempts].map(([name, stats]) => [name, { ...stats }]));
  }
}
