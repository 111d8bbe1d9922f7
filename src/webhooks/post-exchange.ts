/**
 * One POST through an undici dispatcher, handled at undici's dispatch level: what came back
 * (status, headers, the body when asked for) or why nothing did.
 *
 * Not undici's `request`: it wraps every response in a Node `Readable` (and an `AsyncResource`,
 * and the promise and listeners of draining it), which is most of what a request cost the
 * gateway per delivery, for a body that is thrown away or a few bytes long (CPU profile,
 * bench/RESULTS.md, issue 18). Here the body's chunks are counted, kept only when asked for,
 * and the connection is dropped once they pass the limit, as `request` and `dump` did.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';

export interface PostRequest {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Keep the response body (else it is counted and dropped). */
  readonly readBody: boolean;
  /** Body bytes taken before the connection is dropped instead (the body is then left out). */
  readonly maxResponseBytes: number;
}

export type PostEnd =
  | {
      readonly kind: 'response';
      readonly statusCode: number;
      readonly headers: IncomingHttpHeaders;
      /** The body, when asked for and within the limit. */
      readonly body?: Buffer;
    }
  | { readonly kind: 'error'; readonly error: Error };

/** An exchange in flight: `end` settles once it is over; `cancel` ends it early. */
export interface PostExchange {
  readonly end: Promise<PostEnd>;
  /** Drops the request (or the response being read) with `reason`, which `end` reports. */
  cancel(reason: Error): void;
}

class ResponseTooLarge extends Error {}

class ExchangeHandler implements Dispatcher.DispatchHandler {
  readonly end: Promise<PostEnd>;
  readonly #request: PostRequest;
  #settle!: (end: PostEnd) => void;
  #controller: Dispatcher.DispatchController | undefined;
  /** A cancel that came before undici handed over its controller. */
  #cancelled: Error | undefined;
  #response: { statusCode: number; headers: IncomingHttpHeaders } | undefined;
  #chunks: Buffer[] | undefined;
  #bytes = 0;
  #isTooLarge = false;

  constructor(request: PostRequest) {
    this.#request = request;
    this.end = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  cancel(reason: Error): void {
    this.#cancelled ??= reason;
    this.#controller?.abort(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#cancelled) controller.abort(this.#cancelled);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    // 1xx: informational, the final status follows.
    if (statusCode < 200) return;
    this.#response = { statusCode, headers };
    if (this.#request.readBody) this.#chunks = [];
    const length = Number(headers['content-length']);
    if (length > this.#request.maxResponseBytes) this.#dropTooLarge(controller);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#bytes += chunk.length;
    if (this.#bytes > this.#request.maxResponseBytes) this.#dropTooLarge(controller);
    else this.#chunks?.push(chunk);
  }

  onResponseEnd(): void {
    const response = this.#response;
    if (!response) {
      // An exchange that ends without a final status (only 1xx) is a broken one.
      this.#settle({ kind: 'error', error: new Error('the response ended without a final status') });
      return;
    }
    this.#settle(
      this.#chunks
        ? { kind: 'response', ...response, body: Buffer.concat(this.#chunks, this.#bytes) }
        : { kind: 'response', ...response },
    );
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    const response = this.#response;
    if (response && this.#cancelled === undefined && (this.#isTooLarge || !this.#request.readBody)) {
      // The status is in: a body that outgrew the limit is left out, and one thrown away anyway
      // may break off without changing the answer (as draining it with `dump` did).
      this.#settle({ kind: 'response', ...response });
      return;
    }
    this.#settle({ kind: 'error', error });
  }

  #dropTooLarge(controller: Dispatcher.DispatchController): void {
    this.#isTooLarge = true;
    this.#chunks = undefined;
    controller.abort(new ResponseTooLarge('response body over the limit'));
  }
}

/** Starts `request` on `dispatcher` (POST, keep-alive as the dispatcher does it). */
export function startPost(dispatcher: Dispatcher, request: PostRequest): PostExchange {
  const handler = new ExchangeHandler(request);
  try {
    dispatcher.dispatch(
      {
        origin: request.url.origin,
        path: `${request.url.pathname}${request.url.search}`,
        method: 'POST',
        headers: request.headers,
        body: request.body,
      },
      handler,
    );
  } catch (err) {
    handler.onResponseError(undefined, err instanceof Error ? err : new Error(String(err)));
  }
  return handler;
}
