/**
 * What the gateway's two Standard Webhooks users share (standard-webhooks spec v1): the three
 * headers, and per secret the `Webhook` object of the `standardwebhooks` package and the same key
 * for `node:crypto`. Incoming hooks verify with the package (src/hooks/signature-verifier.ts).
 * Outgoing webhooks sign with `node:crypto` (src/webhooks/signer.ts): the package hashes in pure
 * JS, several times the cost of OpenSSL on every attempt (bench/RESULTS.md, webhooks fifth pass);
 * each key's first signature is checked against the package's, so what receivers verify with
 * stays the judge.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
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

/** The `whsec_` prefix the package strips before decoding a secret. */
const SECRET_PREFIX = 'whsec_';

interface SigningKey {
  readonly webhook: Webhook;
  /** The same key bytes for `createHmac`; undefined when its signature did not match the package's. */
  readonly hmacKey: KeyObject | undefined;
}

/**
 * One `Webhook` and HMAC key per secret: decoding the key is the part worth not repeating.
 * Bounded, the oldest dropped first, so it holds only what is in use.
 */
export class SigningKeys {
  readonly #cache = new Map<string, SigningKey>();
  readonly #maxCached: number;

  /** @param maxCached - how many secrets to keep decoded. @defaultValue 1000 */
  constructor(maxCached = 1000) {
    this.#maxCached = maxCached;
  }

  for(secret: string): Webhook {
    return this.#key(secret).webhook;
  }

  /** `v1,` + base64 HMAC-SHA256 of `<msgId>.<unix seconds>.<payload>`: `Webhook.sign`'s bytes. */
  sign(secret: string, msgId: string, timestamp: Date, payload: string): string {
    const { webhook, hmacKey } = this.#key(secret);
    if (!hmacKey) return webhook.sign(msgId, timestamp, payload);
    return signWith(hmacKey, msgId, timestamp, payload);
  }

  #key(secret: string): SigningKey {
    let key = this.#cache.get(secret);
    if (!key) {
      // The package first: it refuses what is not a secret (empty, not base64) as it always did.
      const webhook = new Webhook(secret);
      key = { webhook, hmacKey: matchingHmacKey(secret, webhook) };
      if (this.#cache.size >= this.#maxCached) {
        const oldest = this.#cache.keys().next();
        if (!oldest.done) this.#cache.delete(oldest.value);
      }
      this.#cache.set(secret, key);
    }
    return key;
  }
}

function signWith(key: KeyObject, msgId: string, timestamp: Date, payload: string): string {
  const seconds = Math.floor(timestamp.getTime() / 1000);
  // `update(string)` encodes UTF-8 as the package's TextEncoder does (lone surrogates as U+FFFD).
  return `v1,${createHmac('sha256', key).update(`${msgId}.${seconds}.${payload}`).digest('base64')}`;
}

/**
 * The secret's key for `node:crypto`, kept only if it signs a probe exactly as the package does
 * (the two base64 decoders agree on every secret the package accepts; this makes it a fact).
 */
function matchingHmacKey(secret: string, webhook: Webhook): KeyObject | undefined {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = createSecretKey(Buffer.from(encoded, 'base64'));
  const probe = { id: 'msg_probe', at: new Date(1_700_000_000_000), body: '{"probe":"é"}' };
  const matches =
    signWith(key, probe.id, probe.at, probe.body) === webhook.sign(probe.id, probe.at, probe.body);
  return matches ? key : undefined;
}
