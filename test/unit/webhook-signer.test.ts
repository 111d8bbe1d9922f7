import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { SignatureVerifier } from '../../src/hooks/signature-verifier.js';
import { generateWebhookSecret, WebhookSigner } from '../../src/webhooks/signer.js';
import { SigningKeys } from '../../src/webhooks/standard-webhooks.js';

const headersFor = (signed: ReturnType<WebhookSigner['headers']>) => ({ ...signed });

describe('WebhookSigner', () => {
  it('makes whsec_ secrets of 32 random bytes', () => {
    const a = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(a);
  });

  it('signs per Standard Webhooks: Webhook.verify accepts it and rejects a changed body', () => {
    const secret = generateWebhookSecret();
    const body = '{"id":"1-0","type":"notification","data":{"x":"é"}}';
    const now = new Date();
    const signed = new WebhookSigner().headers('1-0', now, body, [secret]);
    expect(signed['webhook-id']).toBe('1-0');
    expect(signed['webhook-timestamp']).toBe(String(Math.floor(now.getTime() / 1000)));
    expect(signed['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headersFor(signed))).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(body.replace('é', 'e'), headersFor(signed))).toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headersFor(signed))).toThrow();
  });

  it('signs with every secret during a rotation, each verifiable alone', () => {
    const [current, previous] = [generateWebhookSecret(), generateWebhookSecret()];
    const signer = new WebhookSigner();
    const signed = signer.headers('2-0', new Date(), '{}', [current, previous]);
    const parts = signed['webhook-signature'].split(' ');
    expect(parts).toHaveLength(2);
    expect(parts[0]).toBe(
      signer.headers('2-0', new Date(Number(signed['webhook-timestamp']) * 1000), '{}', [current])[
        'webhook-signature'
      ],
    );
    expect(new Webhook(current).verify('{}', headersFor(signed))).toEqual({});
    expect(new Webhook(previous).verify('{}', headersFor(signed))).toEqual({});
  });

  it('refuses to sign without a secret', () => {
    expect(() => new WebhookSigner().headers('1-0', new Date(), '{}', [])).toThrow(RangeError);
  });
});

describe('SigningKeys, shared by the signer and the incoming-hook verifier', () => {
  it('decodes a secret once, and what one side signs the other accepts', () => {
    const keys = new SigningKeys();
    const secret = generateWebhookSecret();
    expect(keys.for(secret)).toBe(keys.for(secret));
    const body = '{"text":"hi"}';
    const signed = new WebhookSigner(keys).headers('msg_1', new Date(), body, [secret]);
    const verifier = new SignatureVerifier(keys);
    expect(() => verifier.verify(secret, Buffer.from(body), signed)).not.toThrow();
    expect(() => verifier.verify(secret, Buffer.from('{"text":"ho"}'), signed)).toThrow(
      expect.objectContaining({ code: 'GW_ERR_UNAUTHENTICATED' }),
    );
    expect(() =>
      verifier.verify(secret, Buffer.from(body), { ...signed, 'webhook-signature': undefined }),
    ).toThrow(expect.objectContaining({ code: 'GW_ERR_UNAUTHENTICATED' }));
  });

  it('keeps at most maxCached secrets decoded, dropping the oldest', () => {
    const keys = new SigningKeys(2);
    const [a, b, c] = [generateWebhookSecret(), generateWebhookSecret(), generateWebhookSecret()];
    const first = keys.for(a);
    keys.for(b);
    keys.for(c);
    expect(keys.for(c)).toBe(keys.for(c));
    expect(keys.for(a)).not.toBe(first);
  });
});
