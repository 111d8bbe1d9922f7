/**
 * What the gateway's two Standard Webhooks users share (standard-webhooks spec v1): the three
 * headers, and the `Webhook` objects of the `standardwebhooks` package, one per secret. Outgoing
 * webhooks sign with them (src/webhooks/signer.ts); incoming hooks verify with them
 * (src/hooks/signature-verifier.ts), so both sides are the code receivers verify with.
 */
import { Webhook } from 'standardwebhooks';

// A type alias, not an interface: it must fit `Record<string, string>` (request headers).
/** The headers that carry a Standard Webhooks signature. */
export type SignatureHeaders = {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
};

/** The same headers as a request brings them: any of them may be missing. */
export type ReceivedSignatureHeaders = { readonly [K in keyof SignatureHeaders]: string | undefined };

/**
 * One `Webhook` per secret: decoding the key is the part worth not repeating. Bounded, the
 * oldest dropped first, so it holds only what is in use.
 */
export class SigningKeys {
  readonly #cache = new Map<string, Webhook>();
  readonly #maxCached: number;

  /** @param maxCached - how many secrets to keep decoded. @defaultValue 1000 */
  constructor(maxCached = 1000) {
    this.#maxCached = maxCached;
  }

  for(secret: string): Webhook {
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
