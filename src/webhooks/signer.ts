/**
 * Standard Webhooks signing (standard-webhooks spec v1, `spec/standard-webhooks.md`): the
 * signature is `v1,` + base64 HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` under the
 * endpoint's `whsec_` secret. During a secret rotation both the new and the old secret sign, and
 * `webhook-signature` carries both, space-separated: receivers still on the old secret keep
 * verifying, which is what makes rotation zero-downtime. The signature is the `standardwebhooks`
 * package's, byte for byte, computed with `node:crypto` (standard-webhooks.ts says why and how it
 * is held to the package's).
 */
import { randomBytes } from 'node:crypto';
import { type SignatureHeaders, SigningKeys } from './standard-webhooks.js';

/** 32 random bytes: the spec asks for 24 to 64. */
const SECRET_BYTES = 32;

/** A new endpoint secret, `whsec_` + base64 (the format `Webhook` and other libraries read). */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/** Signs with every given secret (current first), each decoded once (`SigningKeys`). */
export class WebhookSigner {
  readonly #keys: SigningKeys;

  constructor(keys: SigningKeys = new SigningKeys()) {
    this.#keys = keys;
  }

  /**
   * The three Standard Webhooks headers. `messageId` is the event id, the same on every retry
   * (receivers de-duplicate on it); `timestamp` is this attempt's time.
   */
  headers(messageId: string, timestamp: Date, payload: string, secrets: readonly string[]): SignatureHeaders {
    if (secrets.length === 0) throw new RangeError('at least one secret is needed to sign');
    const signatures = secrets.map((secret) => this.#keys.sign(secret, messageId, timestamp, payload));
    return {
      'webhook-id': messageId,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': signatures.join(' '),
    };
  }
}
