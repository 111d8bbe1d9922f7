/**
 * The few Rocket.Chat REST calls the gateway makes (docs/simulator-protocol.md section 6): login, me,
 * chat.getMessage (to confirm a send whose outcome is unknown) and chat.syncMessages (catch-up).
 * Honours Rocket.Chat's rate limiter: a 429 is retried after `x-ratelimit-reset`.
 */
import { type Clock, delay, systemClock } from '../clock.js';

export interface RestAuth {
  readonly userId: string;
  readonly token: string;
}

/** On whose behalf a call is made, when a client of the gateway asked for it. */
export interface ClientHop {
  /** The client's address (`req.ip`), passed on as `X-Forwarded-For`. */
  readonly clientAddress?: string | undefined;
}

// An IPv4 or IPv6 address as Node reports one; anything else is not forwarded.
const CLIENT_ADDRESS = /^[0-9A-Fa-f:.]{2,45}$/;

export class RocketChatRestError extends Error {
  readonly status: number;
  readonly upstreamError: string | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(status: number, upstreamError: string | undefined, message: string, retryAfterMs?: number) {
    super(message);
    this.name = 'RocketChatRestError';
    this.status = status;
    this.upstreamError = upstreamError;
    this.retryAfterMs = retryAfterMs;
  }
}

export interface RestClientOptions {
  /** Base URL of Rocket.Chat, e.g. `http://127.0.0.1:3100` (REST lives at `/api/v1`). */
  readonly baseUrl: string;
  /** Per request. @defaultValue 15000 */
  readonly timeoutMs?: number;
  /** Longest rate-limit wait honoured before giving up with the 429. @defaultValue 10000 */
  readonly maxRateLimitWaitMs?: number;
  /** Rate-limit resets and the waits they ask for. @defaultValue systemClock */
  readonly clock?: Clock;
}

export interface SyncedMessages {
  /** Messages in REST form (ISO-8601 dates), as Rocket.Chat returns them. */
  readonly updated: readonly Record<string, unknown>[];
  readonly deleted: readonly { _id: string; _deletedAt: string }[];
}

export class RocketChatRestClient {
  readonly #base: string;
  readonly #timeoutMs: number;
  readonly #maxWaitMs: number;
  readonly #clock: Clock;

  constructor(options: RestClientOptions) {
    this.#base = `${options.baseUrl.replace(/\/+$/, '')}/api/v1`;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#maxWaitMs = options.maxRateLimitWaitMs ?? 10_000;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Exchanges a username (or e-mail) and password for a resume token. `on.clientAddress` is the
   * address of whoever asked the gateway: sent as `X-Forwarded-For`, so Rocket.Chat's login limits
   * (which count per client address) count that client rather than the gateway.
   */
  async loginWithPassword(user: string, password: string, on: ClientHop = {}): Promise<RestAuth> {
    const body = await this.#request<{ data?: { userId?: string; authToken?: string } }>(
      'POST',
      '/login',
      undefined,
      { user, password },
      on,
    );
    return this.#authFrom(body.data);
  }

  /** Checks that a token works; returns the user's id and username. See `loginWithPassword` for `on`. */
  async me(auth: RestAuth, on: ClientHop = {}): Promise<{ userId: string; username: string }> {
    const body = await this.#request<{ _id?: string; username?: string }>('GET', '/me', auth, undefined, on);
    if (typeof body._id !== 'string' || typeof body.username !== 'string') {
      throw new RocketChatRestError(502, undefined, 'Rocket.Chat /me returned no user');
    }
    return { userId: body._id, username: body.username };
  }

  /**
   * Revokes the token upstream (`POST /api/v1/logout`); Rocket.Chat then closes every connection
   * logged in with it, as Meteor does for a removed login token.
   */
  async logout(auth: RestAuth): Promise<void> {
    await this.#request<unknown>('POST', '/logout', auth);
  }

  /** The message, or undefined when Rocket.Chat does not have it (or the user may not see it). */
  async getMessage(auth: RestAuth, messageId: string): Promise<Record<string, unknown> | undefined> {
    try {
      const body = await this.#request<{ message?: Record<string, unknown> }>(
        'GET',
        `/chat.getMessage?msgId=${encodeURIComponent(messageId)}`,
        auth,
      );
      return isRecord(body.message) ? body.message : undefined;
    } catch (err) {
      if (err instanceof RocketChatRestError && (err.status === 400 || err.status === 404)) return undefined;
      throw err;
    }
  }

  /**
   * What changed in a room since `sinceMs`: the legacy `lastUpdate` form, which every
   * Rocket.Chat version answers (the cursor form exists only from 7.1 and an older server
   * silently answers it with channel history instead).
   */
  async syncMessages(auth: RestAuth, roomId: string, sinceMs: number): Promise<SyncedMessages> {
    const query = `roomId=${encodeURIComponent(roomId)}&lastUpdate=${encodeURIComponent(new Date(sinceMs).toISOString())}`;
    const body = await this.#request<{ result?: { updated?: unknown; deleted?: unknown } }>(
      'GET',
      `/chat.syncMessages?${query}`,
      auth,
    );
    // Items are left unchecked (the normalizer skips what is not a message); the lists must be lists.
    const result = isRecord(body.result) ? body.result : {};
    return {
      updated: (Array.isArray(result.updated) ? result.updated : []) as SyncedMessages['updated'],
      deleted: (Array.isArray(result.deleted) ? result.deleted : []) as SyncedMessages['deleted'],
    };
  }

  #authFrom(data: { userId?: string; authToken?: string } | undefined): RestAuth {
    if (typeof data?.userId !== 'string' || typeof data.authToken !== 'string') {
      throw new RocketChatRestError(502, undefined, 'Rocket.Chat login returned no user id or token');
    }
    return { userId: data.userId, token: data.authToken };
  }

  /** `POST /api/v1/chat.sendMessage`: the client `_id` is kept, and alias/emoji/avatar/attachments pass. */
  async sendMessage(auth: RestAuth, message: Record<string, unknown>): Promise<Record<string, unknown>> {
    const body = await this.#request<{ message?: Record<string, unknown> }>(
      'POST',
      '/chat.sendMessage',
      auth,
      { message },
    );
    return isRecord(body.message) ? body.message : {};
  }

  async #request<T>(
    method: string,
    path: string,
    auth: RestAuth | undefined,
    body?: unknown,
    on: ClientHop = {},
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (on.clientAddress !== undefined && CLIENT_ADDRESS.test(on.clientAddress)) {
        headers['x-forwarded-for'] = on.clientAddress;
      }
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (auth) {
        headers['x-user-id'] = auth.userId;
        headers['x-auth-token'] = auth.token;
      }
      let response: Response;
      try {
        response = await fetch(`${this.#base}${path}`, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
      } catch (err) {
        const timedOut = err instanceof Error && err.name === 'TimeoutError';
        throw new RocketChatRestError(
          timedOut ? 504 : 503,
          undefined,
          `Rocket.Chat ${method} ${stripQuery(path)} failed: ${timedOut ? 'timeout' : 'unreachable'}`,
        );
      }
      const text = await response.text();
      const parsed = parseJson(text);
      if (response.ok) return parsed as T;
      const retryAfterMs = response.status === 429 ? this.#retryAfterMs(response, parsed) : undefined;
      if (retryAfterMs !== undefined && retryAfterMs <= this.#maxWaitMs && attempt < 3) {
        await delay(this.#clock, retryAfterMs);
        continue;
      }
      const error = parsed;
      const code =
        typeof error.errorType === 'string'
          ? error.errorType
          : typeof error.error === 'string'
            ? error.error
            : undefined;
      const message =
        typeof error.message === 'string'
          ? error.message
          : typeof error.error === 'string'
            ? error.error
            : response.statusText;
      throw new RocketChatRestError(
        response.status,
        code,
        `Rocket.Chat ${method} ${stripQuery(path)}: ${response.status} ${message}`,
        retryAfterMs,
      );
    }
  }

  #retryAfterMs(response: Response, body: Record<string, unknown>): number {
    const reset = Number(response.headers.get('x-ratelimit-reset'));
    if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset - this.#clock.now());
    const reason = body.error;
    const match = /wait (\d+) seconds/.exec(typeof reason === 'string' ? reason : '');
    return match ? Number(match[1]) * 1000 : 1000;
  }
}

/** The body as an object; `{}` for anything else (not JSON, `null`, a bare string...), so that
 * reading a field of a reply of the wrong shape never throws a TypeError. */
function parseJson(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return isRecord(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Query strings may carry ids; errors name the endpoint only. */
function stripQuery(path: string): string {
  const index = path.indexOf('?');
  return index < 0 ? path : path.slice(0, index);
}
