/**
 * Requests to the gateway: base URL, the bearer token, JSON in and out, and errors as
 * `GatewayRequestError` with the gateway's own code. `fetch` is injected (ky's habit), so a
 * caller can add a proxy agent or instrumentation; Node 20's global one by default.
 */
import { GatewayRequestError } from './errors.js';

/** A gateway token, or a function returning the current one (for callers that renew it). */
export type TokenSource = string | (() => string | Promise<string>);

export interface HttpTransportOptions {
  /** Where the gateway is, e.g. `https://gateway.example.com`. */
  readonly baseUrl: string;
  /** The token from `POST /v1/sessions`; requests go unauthenticated without it. */
  readonly token?: TokenSource;
  /** @defaultValue globalThis.fetch */
  readonly fetch?: typeof fetch;
}

export interface JsonAnswer<T> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export class HttpTransport {
  readonly #baseUrl: string;
  readonly #token: TokenSource | undefined;
  readonly #fetch: typeof fetch;

  constructor(options: HttpTransportOptions) {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('baseUrl must be http(s)');
    this.#baseUrl = url.href.replace(/\/$/, '');
    this.#token = options.token;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  /** Sends a JSON request and parses the JSON answer; any status >= 400 throws. */
  async json<T>(
    method: string,
    path: string,
    options: {
      readonly body?: unknown;
      readonly headers?: Record<string, string>;
      readonly signal?: AbortSignal;
    } = {},
  ): Promise<JsonAnswer<T>> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await this.#send(path, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch (err) {
      throw new GatewayRequestError(`${method} ${path}: the answer is not JSON (${response.status})`, {
        status: response.status,
        code: 'GW_CLIENT_ERR_RESPONSE',
        cause: err,
      });
    }
    return { status: response.status, headers: response.headers, body: body as T };
  }

  /** Opens a streaming GET; resolves once the status is 200, throws the gateway's error otherwise. */
  open(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    return this.#send(path, { method: 'GET', headers, signal });
  }

  async #send(path: string, init: RequestInit & { headers: Record<string, string> }): Promise<Response> {
    const token = typeof this.#token === 'function' ? await this.#token() : this.#token;
    if (token !== undefined) init.headers['authorization'] = `Bearer ${token}`;
    let response: Response;
    try {
      response = await this.#fetch(`${this.#baseUrl}${path}`, init);
    } catch (err) {
      throw new GatewayRequestError(`${init.method} ${path}: the gateway could not be reached`, {
        status: 0,
        code: 'GW_CLIENT_ERR_NETWORK',
        cause: err,
      });
    }
    if (response.status < 400) return response;
    throw await errorOf(init.method ?? 'GET', path, response);
  }
}

async function errorOf(method: string, path: string, response: Response): Promise<GatewayRequestError> {
  const text = await response.text().catch(() => '');
  let code = 'GW_CLIENT_ERR_RESPONSE';
  let message = text.slice(0, 200);
  let retryAfterMs: number | undefined;
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown; retryAfterMs?: unknown };
    if (typeof body.error === 'string') code = body.error;
    if (typeof body.message === 'string') message = body.message;
    if (typeof body.retryAfterMs === 'number') retryAfterMs = body.retryAfterMs;
  } catch {
    // Not the gateway's JSON error (a proxy's HTML page): the text and the status say enough.
  }
  const header = Number(response.headers.get('retry-after'));
  if (retryAfterMs === undefined && Number.isFinite(header) && header > 0) retryAfterMs = header * 1000;
  return new GatewayRequestError(`${method} ${path}: ${response.status} ${code}: ${message}`, {
    status: response.status,
    code,
    retryAfterMs,
  });
}
