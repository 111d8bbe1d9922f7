/**
 * Verifying a webhook delivery from the gateway, per Standard Webhooks (the gateway's
 * src/webhooks/signer.ts signs; docs/webhooks.md): `webhook-signature` holds one or more
 * space-separated `v1,<base64 HMAC-SHA256>` of `<webhook-id>.<webhook-timestamp>.<raw body>`
 * under the endpoint secret (`whsec_<base64>`). Two signatures come during a secret rotation;
 * either matching is enough. The timestamp must be recent, so a captured request cannot be
 * replayed later; de-duplicate on `webhook-id` (the event id, the same on every retry).
 *
 * Verify the raw bytes as received: a body parsed and serialized again no longer matches.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookVerificationError } from './errors.js';
import type { Event } from './generated/openapi-types.js';

export interface VerifyWebhookOptions {
  /** How far the timestamp may be from now, either way. @defaultValue 300 (the spec's 5 minutes) */
  readonly toleranceSeconds?: number;
  /** The current time in ms, replaceable for tests. @defaultValue Date.now */
  readonly now?: () => number;
}

/** Request headers as Node's `IncomingMessage`, a fetch `Headers`, or a plain object give them. */
export type WebhookHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

/** A verified delivery: the event, and the id to de-duplicate on. */
export interface VerifiedWebhook {
  readonly webhookId: string;
  readonly timestamp: Date;
  readonly event: Event;
}

/**
 * Checks the signature and timestamp, then parses the body.
 * @param secret The endpoint's secret (`whsec_...`), or several (e.g. during your own rotation).
 * @throws WebhookVerificationError with `reason` saying what failed.
 */
export function verifyWebhook(
  secret: string | readonly string[],
  headers: WebhookHeaders,
  body: string | Uint8Array,
  options: VerifyWebhookOptions = {},
): VerifiedWebhook {
  const id = header(headers, 'webhook-id');
  const timestampText = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestampText || !signatures) {
    throw new WebhookVerificationError(
      'missing-headers',
      'webhook-id, webhook-timestamp and webhook-signature are required',
    );
  }
  if (!/^\d{1,12}$/.test(timestampText)) {
    throw new WebhookVerificationError('bad-timestamp', 'webhook-timestamp must be Unix seconds');
  }
  const timestampSeconds = Number(timestampText);
  const nowSeconds = (options.now ?? Date.now)() / 1000;
  if (Math.abs(nowSeconds - timestampSeconds) > (options.toleranceSeconds ?? 300)) {
    throw new WebhookVerificationError('timestamp-out-of-tolerance', 'webhook-timestamp is too far from now');
  }
  const raw = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
  const signed = Buffer.concat([Buffer.from(`${id}.${timestampText}.`, 'utf8'), raw]);
  const offered = signatures
    .split(' ')
    .filter((part) => part.startsWith('v1,'))
    .map((part) => Buffer.from(part.slice(3), 'base64'));
  const secrets = typeof secret === 'string' ? [secret] : secret;
  const matches = secrets.some((one) => {
    const expected = createHmac('sha256', keyOf(one)).update(signed).digest();
    // Constant time, so the comparison leaks nothing about how much of a forgery was right.
    return offered.some(
      (candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected),
    );
  });
  if (!matches)
    throw new WebhookVerificationError('no-matching-signature', 'no signature matches the secret');
  let event: Event;
  try {
    event = JSON.parse(raw.toString('utf8')) as Event;
  } catch {
    throw new WebhookVerificationError('bad-body', 'the signed body is not JSON');
  }
  return { webhookId: id, timestamp: new Date(timestampSeconds * 1000), event };
}

function keyOf(secret: string): Buffer {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  if (key.length === 0) throw new WebhookVerificationError('bad-secret', 'the secret is not whsec_<base64>');
  return key;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  const value = headers instanceof Headers ? headers.get(name) : headers[name];
  if (typeof value === 'string') return value;
  // Node joins repeated headers into an array only for a few names; a repeated signature header
  // is not something the gateway sends.
  return undefined;
}
