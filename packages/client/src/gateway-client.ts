/**
 * The client for backend services: sessions, sends with idempotency keys, method calls, and the
 * resumable event stream. Request and answer types come from the gateway's OpenAPI document
 * (generated/openapi-types.ts), paths from its operations, so neither can drift from the server.
 */
import { randomUUID } from 'node:crypto';
import { Backoff, type BackoffOptions, sleep } from './backoff.js';
import { GatewayRequestError } from './errors.js';
import { EventStream, type EventStreamOptions } from './event-stream.js';
import {
  type MessageSend,
  type MethodResult,
  OPERATIONS,
  type OutboundJob,
  type SessionCreated,
} from './generated/openapi-types.js';
import { HttpTransport, type HttpTransportOptions, type TokenSource } from './http-transport.js';

export type GatewayClientOptions = HttpTransportOptions;

/** `POST /v1/sessions` takes a password or a Rocket.Chat resume token. */
export type LoginCredentials =
  | { readonly username: string; readonly password: string }
  | { readonly userId: string; readonly authToken: string };

export interface SendOptions {
  /**
   * Makes the send safe to retry: the gateway sends one message per key, and answers a repeat
   * with the first job. @defaultValue a random UUID, kept across this call's own retries
   */
  readonly idempotencyKey?: string;
  /** Attempts on retryable failures (network, 429, 502-504), with the same key. @defaultValue 4 */
  readonly maxAttempts?: number;
  readonly backoff?: BackoffOptions;
}

/** A queued send: the outbound job, and whether the key had been seen (`Idempotent-Replayed`). */
export interface SentMessage extends OutboundJob {
  readonly replayed: boolean;
}

export class GatewayClient {
  readonly #transport: HttpTransport;

  constructor(options: GatewayClientOptions) {
    this.#transport = new HttpTransport(options);
  }

  /** Registers Rocket.Chat credentials (`POST /v1/sessions`) and returns a client using the token. */
  static async login(
    options: Omit<GatewayClientOptions, 'token'>,
    credentials: LoginCredentials,
  ): Promise<{ readonly client: GatewayClient; readonly session: SessionCreated }> {
    const anonymous = new HttpTransport(options);
    const { method, path } = OPERATIONS.createSession;
    const answer = await anonymous.json<SessionCreated>(method, path, { body: credentials });
    const session = answer.body;
    return { client: new GatewayClient({ ...options, token: session.token }), session };
  }

  /**
   * Queues a message (`POST /v1/messages`) with an `Idempotency-Key`, retrying what is worth
   * retrying with the same key: however often it is sent, the room gets it once.
   */
  async sendMessage(message: MessageSend, options: SendOptions = {}): Promise<SentMessage> {
    const key = options.idempotencyKey ?? randomUUID();
    const { method, path } = OPERATIONS.sendMessage;
    const answer = await this.#retrying(options, () =>
      this.#transport.json<OutboundJob>(method, path, { body: message, headers: { 'idempotency-key': key } }),
    );
    return { ...answer.body, replayed: answer.headers.get('idempotent-replayed') === 'true' };
  }

  /** The job of a send (`GET /v1/messages/{id}`): `queued`, `sent` or `failed`. */
  async getMessage(id: string): Promise<OutboundJob> {
    const { method, path } = OPERATIONS.getMessage;
    return (await this.#transport.json<OutboundJob>(method, path.replace('{id}', encodeURIComponent(id))))
      .body;
  }

  /**
   * Calls a Rocket.Chat method (`POST /v1/methods/{name}`, the catalogue in docs) and returns its
   * result. Not retried: methods are not idempotent in general.
   */
  async callMethod<T = unknown>(name: string, params: readonly unknown[] = []): Promise<T> {
    const { method, path } = OPERATIONS.callMethod;
    const answer = await this.#transport.json<MethodResult>(
      method,
      path.replace('{name}', encodeURIComponent(name)),
      {
        body: { params },
      },
    );
    return answer.body.result as T;
  }

  /** The user's events, resumable across reconnects and restarts (event-stream.ts). */
  events(options: EventStreamOptions): EventStream {
    return new EventStream(this.#transport, options);
  }

  async #retrying<T>(options: SendOptions, attempt: () => Promise<T>): Promise<T> {
    const maxAttempts = options.maxAttempts ?? 4;
    const backoff = new Backoff(options.backoff);
    for (let tried = 1; ; tried++) {
      try {
        return await attempt();
      } catch (err) {
        if (!(err instanceof GatewayRequestError) || !err.isRetryable || tried >= maxAttempts) throw err;
        await sleep(Math.max(backoff.next(), err.retryAfterMs ?? 0));
      }
    }
  }
}

export type { TokenSource };
