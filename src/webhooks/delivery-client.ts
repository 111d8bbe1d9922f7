/**
 * One delivery attempt over HTTP: `POST` the envelope with its headers, bounded by a timeout that
 * covers connecting, waiting for the status and draining the response. The outcome is data, not
 * an exception, so the processor decides in one place what each outcome means.
 */
import { EventEmitter } from 'node:events';
import type { Dispatcher } from 'undici';
import { request } from 'undici';
import type { Clock } from '../clock.js';
import { isGatewayError } from '../errors.js';
import { parseRetryAfter } from './retry-policy.js';

export type DeliveryResult =
  | {
      readonly kind: 'response';
      readonly statusCode: number;
      /** From `Retry-After`, whatever the status; the caller decides whether it applies. */
      readonly retryAfterMs: number | undefined;
      readonly durationMs: number;
      /** The response body, when asked for and no longer than `maxResponseBytes`. */
      readonly body?: string;
      readonly contentType?: string;
    }
  | {
      readonly kind: 'timeout' | 'network_error' | 'blocked';
      readonly error: string;
      readonly durationMs: number;
    };

export interface DeliveryClientOptions {
  /** The guarded agent (`createGuardedAgent`); the client closes it. */
  readonly agent: Dispatcher;
  readonly clock: Clock;
  /** @defaultValue 'rocketchat-gateway-webhooks/1' */
  readonly userAgent?: string;
  /** Response bytes read (and discarded) before the connection is dropped instead. @defaultValue 65536 */
  readonly maxResponseBytes?: number;
}

/**
 * The attempt's cancel switch, in the form undici's `request` also takes (an emitter with
 * `aborted`, `reason` and an `abort` event). Not an `AbortController`: its signal is an
 * `EventTarget`, and making one per attempt cost about as much as signing the body (CPU profile,
 * bench/RESULTS.md, issue 18).
 */
class AttemptAbort extends EventEmitter {
  aborted = false;
  reason: unknown;

  abort(reason: unknown): void {
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

class AttemptTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`no complete response within ${timeoutMs} ms`);
    this.name = 'AttemptTimeoutError';
  }
}

export class DeliveryClient {
  readonly #agent: Dispatcher;
  readonly #clock: Clock;
  readonly #userAgent: string;
  readonly #maxResponseBytes: number;

  constructor(options: DeliveryClientOptions) {
    this.#agent = options.agent;
    this.#clock = options.clock;
    this.#userAgent = options.userAgent ?? 'rocketchat-gateway-webhooks/1';
    this.#maxResponseBytes = options.maxResponseBytes ?? 65_536;
  }

  async post(
    url: string,
    body: string,
    headers: Readonly<Record<string, string>>,
    timeoutMs: number,
    options: { readonly readBody?: boolean } = {},
  ): Promise<DeliveryResult> {
    const started = this.#clock.now();
    const abort = new AttemptAbort();
    // Made only when it fires: an Error captures a stack, which is not free on every attempt.
    let timeout: AttemptTimeoutError | undefined;
    const timer = this.#clock.setTimeout(() => {
      timeout = new AttemptTimeoutError(timeoutMs);
      // Before the status undici drops the request; after it, it ends the body where it is.
      abort.abort(timeout);
    }, timeoutMs);
    try {
      const response = await request(url, {
        method: 'POST',
        dispatcher: this.#agent,
        signal: abort,
        headers: { 'content-type': 'application/json', 'user-agent': this.#userAgent, ...headers },
        body,
      });
      // Drained so the connection can be reused; what the receiver says is kept only when the
      // format reads replies (Rocket.Chat's: a JSON `text` is posted back).
      let text: string | undefined;
      if (options.readBody) text = await readLimited(response.body, this.#maxResponseBytes);
      else await response.body.dump({ limit: this.#maxResponseBytes });
      // A drain the timer cut short ends quietly: the timeout is the outcome.
      if (timeout !== undefined)
        return { kind: 'timeout', error: timeout.message, durationMs: this.#clock.now() - started };
      const contentType = response.headers['content-type'];
      return {
        kind: 'response',
        statusCode: response.statusCode,
        retryAfterMs: parseRetryAfter(response.headers['retry-after'], this.#clock.now()),
        durationMs: this.#clock.now() - started,
        ...(text === undefined ? {} : { body: text }),
        ...(typeof contentType === 'string' ? { contentType } : {}),
      };
    } catch (err) {
      const durationMs = this.#clock.now() - started;
      if (timeout !== undefined) return { kind: 'timeout', error: timeout.message, durationMs };
      const forbidden = findTargetForbidden(err);
      if (forbidden) return { kind: 'blocked', error: forbidden, durationMs };
      return { kind: 'network_error', error: describe(err), durationMs };
    } finally {
      this.#clock.clearTimeout(timer);
    }
  }

  /** Closes idle connections and waits for requests in flight. */
  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** The body as UTF-8, or undefined (and the connection dropped) when it outgrows `limit`. */
async function readLimited(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
  limit: number,
): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The guard's refusal, possibly wrapped by undici or Node; its message (safe to show) or undefined. */
function findTargetForbidden(err: unknown): string | undefined {
  for (let current = err, depth = 0; current && depth < 4; depth++) {
    if (isGatewayError(current) && current.code === 'GW_ERR_WEBHOOK_TARGET_FORBIDDEN') {
      return `GW_ERR_WEBHOOK_TARGET_FORBIDDEN: ${current.message}`;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err).slice(0, 300);
  const code = (err as { code?: unknown }).code;
  const text = typeof code === 'string' ? `${code}: ${err.message}` : `${err.name}: ${err.message}`;
  return text.slice(0, 300);
}
