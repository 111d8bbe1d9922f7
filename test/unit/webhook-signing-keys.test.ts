import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret } from '../../src/webhooks/signer.js';
import { SigningKeys } from '../../src/webhooks/standard-webhooks.js';

describe('SigningKeys.sign (node:crypto)', () => {
  it("gives the standardwebhooks package's signature, byte for byte", () => {
    const keys = new SigningKeys();
    const bodies = ['', '{}', '{"text":"é ✓ 😀"}', 'x'.repeat(70_000), 'lone \ud800 surrogate'];
    for (let i = 0; i < 20; i++) {
      const secret = i % 2 === 0 ? generateWebhookSecret() : generateWebhookSecret().slice('whsec_'.length);
      const at = new Date(1_700_000_000_123 + i * 7_777);
      for (const body of bodies) {
        expect(keys.sign(secret, `msg_${i}`, at, body)).toBe(new Webhook(secret).sign(`msg_${i}`, at, body));
      }
    }
  });

  it('refuses what the package refuses', () => {
    expect(() => new SigningKeys().sign('whsec_', 'm', new Date(), '{}')).toThrow();
    expect(() => new SigningKeys().sign('whsec_not base64!', 'm', new Date(), '{}')).toThrow();
  });
});
