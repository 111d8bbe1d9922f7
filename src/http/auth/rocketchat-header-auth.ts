/**
 * Rocket.Chat's own `X-User-Id` + `X-Auth-Token`, accepted in place of a gateway JWT: checked
 * with Rocket.Chat's `GET /me`, and the answer cached briefly so a busy client does not cost one
 * upstream round trip per request.
 *
 * The cache key is a SHA-256 of user id and token, so no raw token sits in memory longer than the
 * request that carried it. Concurrent requests with the same pair share one upstream check.
 * A refused pair is remembered briefly too, and counts as a failed login of the caller's address
 * (login-throttle.ts): a client repeating a wrong token neither costs one `/me` per request nor
 * spends Rocket.Chat's per-address limit for everybody else. A cached success is served only while
 * the stored credential is not marked invalid (a revocation the session noticed); otherwise the
 * pair is checked upstream again.
 * On a fresh success the token is stored as the user's credential (when it differs from the one
 * stored), so a session can be held for a user who never called `POST /v1/sessions`.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../clock.js';
import { isGatewayError } from '../../errors.js';
import type { Logger } from '../../log/index.js';
import { credentialsRejected, mapCredentialCheckError } from '../../rocketchat/errors.js';
import type { HttpContext } from '../context.js';
import type { LoginThrottle } from '../login-throttle.js';
import { registerCredential } from './register-credential.js';
import type { TokenSubject } from './tokens.js';
import { TtlCache } from './ttl-cache.js';

/** Who a checked pair belongs to. */
type HeaderSubject = Required<Pick<TokenSubject, 'userId' | 'username'>>;

export interface RocketChatHeaderAuthOptions {
  /** How long a successful check is reused. @defaultValue 30000 */
  readonly ttlMs?: number;
  /** How long a refused pair is answered without asking Rocket.Chat. @defaultValue 5000 */
  readonly failureTtlMs?: number;
  /** Checks remembered at most. @defaultValue 10000 */
  readonly maxEntries?: number;
}

type Deps = Pick<HttpContext, 'rest' | 'credentials' | 'redis' | 'keys'> & {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly throttle: Pick<LoginThrottle, 'check' | 'recordFailure'>;
};

export class RocketChatHeaderAuth {
  readonly #deps: Deps;
  readonly #cache: TtlCache<HeaderSubject>;
  readonly #refused: TtlCache<true>;
  readonly #inFlight = new Map<string, Promise<HeaderSubject>>();

  constructor(deps: Deps, options: RocketChatHeaderAuthOptions = {}) {
    this.#deps = deps;
    this.#cache = new TtlCache({
      maxEntries: options.maxEntries ?? 10_000,
      ttlMs: options.ttlMs ?? 30_000,
      clock: deps.clock,
    });
    this.#refused = new TtlCache({
      maxEntries: options.maxEntries ?? 10_000,
      ttlMs: options.failureTtlMs ?? 5000,
      clock: deps.clock,
    });
  }

  /**
   * The user the pair belongs to.
   * @throws GatewayError `GW_ERR_UNAUTHENTICATED` when Rocket.Chat refuses it or names another
   *   user, `GW_ERR_UPSTREAM_UNAVAILABLE` (and kin) when Rocket.Chat cannot be asked.
   */
  async verify(userId: string, token: string, clientAddress: string): Promise<TokenSubject> {
    const key = cacheKey(userId, token);
    if (this.#refused.get(key)) throw credentialsRejected();
    const cached = this.#cache.get(key);
    // One HGET, as the bearer path pays: a revocation shows at once, not after the cache entry.
    if (cached && (await this.#deps.credentials.status(userId)) !== 'invalid') return cached;
    let pending = this.#inFlight.get(key);
    if (!pending) {
      pending = this.#checkCounted(userId, token, clientAddress).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    const subject = await pending;
    this.#cache.set(key, subject);
    return subject;
  }

  async #checkCounted(userId: string, token: string, clientAddress: string): Promise<HeaderSubject> {
    const attempt = { address: clientAddress };
    await this.#deps.throttle.check(attempt);
    try {
      return await this.#check(userId, token, clientAddress);
    } catch (err) {
      if (isGatewayError(err) && err.code === 'GW_ERR_UNAUTHENTICATED') {
        this.#cache.delete(cacheKey(userId, token));
        this.#refused.set(cacheKey(userId, token), true);
        await this.#deps.throttle.recordFailure(attempt);
      }
      throw err;
    }
  }

  /** Forgets every cached check of the user (after its credential was removed). */
  forgetUser(userId: string): void {
    this.#cache.deleteWhere((subject) => subject.userId === userId);
  }

  async #check(userId: string, token: string, clientAddress: string): Promise<HeaderSubject> {
    let me: { userId: string; username: string };
    try {
      me = await this.#deps.rest.me({ userId, token }, { clientAddress });
    } catch (err) {
      throw mapCredentialCheckError(err);
    }
    if (me.userId !== userId) throw credentialsRejected();
    if (!(await this.#isStored(userId, token, me.username))) {
      await registerCredential(this.#deps, userId, { token, username: me.username });
    }
    return { userId, username: me.username };
  }

  /** True when this very token is already the user's valid credential. */
  async #isStored(userId: string, token: string, username: string): Promise<boolean> {
    let stored: Awaited<ReturnType<Deps['credentials']['load']>>;
    try {
      stored = await this.#deps.credentials.load(userId);
    } catch (err) {
      // An unreadable record (a removed encryption key, corruption) is replaced by the working
      // token the caller just proved; that is the repair an operator would do by hand.
      this.#deps.logger.warn({ err, userId }, 'stored credential unreadable; replacing it');
      return false;
    }
    return stored?.status === 'valid' && stored.username === username && stored.token.reveal() === token;
  }
}

function cacheKey(userId: string, token: string): string {
  // NUL cannot occur in header values, so no two pairs share a key.
  return createHash('sha256').update(userId).update('\0').update(token).digest('hex');
}
