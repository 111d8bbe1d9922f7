/**
 * Standard Webhooks signing (standard-webhooks spec v1, `spec/standard-webhooks.md`): the
 * signature is `v1,` + base64 HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` under the
 * endpoint's `whsec_` secret. During a secret rotation both the new and the old secret sign, and
 * `webhook-signature` carries both, space-separated: receivers still on the old secret keep
 * verifying, which is what makes rotation zero-downtime. Signing itself is the `standardwebhooks`
 * package's, so it is the same code receivers verify with.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** 32 random bytes: the spec asks for 24 to 64. */
const SECRET_BYTES = 32;

/** A new endpoint secret, `whsec_` + base64 (the format `Webhook` and other libraries read). */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(SECRET_BYTES).toString('base64')}`;
}

// A type alias, not an interface: it must fit `Record<string, string>` (request headers).
export type SignatureHeaders = {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
};

/**
 * Signs with every given secret (current first). Keeps one `Webhook` per secret, since decoding
 * the key is the part worth not repeating; the cache is bounded and holds only what is in use.
 */
export class WebhookSigner {
  readonly #cache = new Map<string, Webhook>();
  readonly #maxCached: number;

  constructor(maxCached = 1000) {
    this.#maxCached = maxCached;
  }

  /**
   * The three Standard Webhooks headers. `messageId` is the event id, the same on every retry
   * (receivers de-duplicate on it); `timestamp` is this attempt's time.
   */
  headers(messageId: string, timestamp: Date, payload: string, secrets: readonly string[]): SignatureHeaders {
    if (secrets.length === 0) throw new RangeError('at least one secret is needed to sign');
    const signatures = secrets.map((secret) => this.#webhook(secret).sign(messageId, timestamp, payload));
    return {
      'webhook-id': messageId,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': signatures.join(' '),
    };
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
