/**
 * Checks Standard Webhooks signatures on posts to hooks that have a signing secret, with the
 * same `standardwebhooks` package that signs the gateway's own outgoing webhooks
 * (src/webhooks/signer.ts): HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<raw body>`,
 * `webhook-timestamp` within the library's tolerance (5 minutes, the spec's recommendation),
 * any of several space-separated `v1,` signatures (the sender may be rotating secrets).
 *
 * The body must be the bytes as received: a re-serialized JSON object would not match.
 */
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { createError, type GatewayError } from '../errors.js';

export interface SignatureHeaders {
  readonly id: string | undefined;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
}

export class SignatureVerifier {
  // Decoding the secret is the part worth keeping; bounded, oldest dropped first.
  readonly #cache = new Map<string, Webhook>();
  readonly #maxCached: number;

  constructor(maxCached = 1000) {
    this.#maxCached = maxCached;
  }

  /** Throws `GW_ERR_UNAUTHENTICATED` unless `raw` carries a valid, fresh signature under `secret`. */
  verify(secret: string, raw: Buffer, headers: SignatureHeaders): void {
    if (!headers.id || !headers.timestamp || !headers.signature) {
      throw refused(
        'This hook requires signed posts: send webhook-id, webhook-timestamp and webhook-signature',
      );
    }
    try {
      this.#webhook(secret).verify(
        raw,
        {
          'webhook-id': headers.id,
          'webhook-timestamp': headers.timestamp,
          'webhook-signature': headers.signature,
        },
        { jsonParse: false },
      );
    } catch (err) {
      // The library's messages ("Message timestamp too old", "No matching signature found")
      // say which check failed without revealing anything about the secret.
      if (err instanceof WebhookVerificationError) throw refused(`Signature refused: ${err.message}`, err);
      throw err;
    }
  }

  #webhook(secret: string): Webhook {
    let webhook = this.#cache.get(secret);
    if (!webhook) {
      webhook = new Webhook(secret);
      if (this.#cache.size >= this.#maxCached) {
        const oldest = this.#cache.keys().next();
        if (!oldest.done) this.#cache.delete(oldest.value);
      }
      this.#cache.set(secret, webhook);
    }
    return webhook;
  }
}

function refused(message: string, cause?: unknown): GatewayError {
  return createError('GW_ERR_UNAUTHENTICATED', message, cause === undefined ? {} : { cause });
}
