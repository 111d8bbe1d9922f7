/**
 * Checks Standard Webhooks signatures on posts to hooks that have a signing secret, with the
 * same `standardwebhooks` package that signs the gateway's own outgoing webhooks
 * (src/webhooks/signer.ts): HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<raw body>`,
 * `webhook-timestamp` within the library's tolerance (5 minutes, the spec's recommendation),
 * any of several space-separated `v1,` signatures (the sender may be rotating secrets).
 *
 * The body must be the bytes as received: a re-serialized JSON object would not match.
 */
import { WebhookVerificationError } from 'standardwebhooks';
import { createError, type GatewayError } from '../errors.js';
import { type ReceivedSignatureHeaders, SigningKeys } from '../webhooks/standard-webhooks.js';

export class SignatureVerifier {
  readonly #keys: SigningKeys;

  constructor(keys: SigningKeys = new SigningKeys()) {
    this.#keys = keys;
  }

  /** Throws `GW_ERR_UNAUTHENTICATED` unless `raw` carries a valid, fresh signature under `secret`. */
  verify(secret: string, raw: Buffer, headers: ReceivedSignatureHeaders): void {
    const id = headers['webhook-id'];
    const timestamp = headers['webhook-timestamp'];
    const signature = headers['webhook-signature'];
    if (!id || !timestamp || !signature) {
      throw refused(
        'This hook requires signed posts: send webhook-id, webhook-timestamp and webhook-signature',
      );
    }
    try {
      this.#keys
        .for(secret)
        .verify(
          raw,
          { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature },
          { jsonParse: false },
        );
    } catch (err) {
      // The library's messages ("Message timestamp too old", "No matching signature found")
      // say which check failed without revealing anything about the secret.
      if (err instanceof WebhookVerificationError) throw refused(`Signature refused: ${err.message}`, err);
      throw err;
    }
  }
}

function refused(message: string, cause?: unknown): GatewayError {
  return createError('GW_ERR_UNAUTHENTICATED', message, cause === undefined ? {} : { cause });
}
