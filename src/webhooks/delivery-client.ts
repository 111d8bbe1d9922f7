/**
 * One delivery attempt over HTTP: `POST` the envelope with its headers, bounded by a timeout that
 * covers connecting, waiting for the status and draining the response. The outcome is data, not
 * an exception, so the processor decides in one place what each outcome means.
 */
import type { Dispatcher } from 'undici';
import type { Clock } from '../clock.js';
import { isGatewayError } from '../errors.js';
import { startPost } from './post-exchange.js';
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
  readonly #urls = new Map<string, URL>();

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
    let target: URL;
    try {
      target = this.#parsed(url);
    } catch (err) {
      return { kind: 'network_error', error: describe(err), durationMs: 0 };
    }
    const exchange = startPost(this.#agent, {
      url: target,
      headers: { 'content-type': 'application/json', 'user-agent': this.#userAgent, ...headers },
      body,
      readBody: options.readBody === true,
      maxResponseBytes: this.#maxResponseBytes,
    });
    // Made only when it fires: an Error captures a stack, which is not free on every attempt.
    let timeout: AttemptTimeoutError | undefined;
    const timer = this.#clock.setTimeout(() => {
      timeout = new AttemptTimeoutError(timeoutMs);
      exchange.cancel(timeout);
    }, timeoutMs);
    const end = await exchange.end;
    this.#clock.clearTimeout(timer);
    const durationMs = this.#clock.now() - started;
    if (timeout !== undefined) return { kind: 'timeout', error: timeout.message, durationMs };
    if (end.kind === 'error') {
      const forbidden = findTargetForbidden(end.error);
      if (forbidden) return { kind: 'blocked', error: forbidden, durationMs };
      return { kind: 'network_error', error: describe(end.error), durationMs };
    }
    const contentType = end.headers['content-type'];
    return {
      kind: 'response',
      statusCode: end.statusCode,
      retryAfterMs: parseRetryAfter(end.headers['retry-after'], this.#clock.now()),
      durationMs,
      ...(end.body === undefined ? {} : { body: end.body.toString('utf8') }),
      ...(typeof contentType === 'string' ? { contentType } : {}),
    };
  }

  /** Webhook URLs are few and each is posted to many times: parsed once. */
  #parsed(url: string): URL {
    let parsed = this.#urls.get(url);
    if (!parsed) {
      parsed = new URL(url);
      if (this.#urls.size >= 1000) this.#urls.clear();
      this.#urls.set(url, parsed);
    }
    return parsed;
  }

  /** Closes idle connections and waits for requests in flight. */
  async close(): Promise<void> {
    await this.#agent.close();
  }
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
