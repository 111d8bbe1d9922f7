import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../src/errors.js';
import { guardedLookup, type LookupFunction } from '../../src/webhooks/guarded-agent.js';
import { checkTargetUrl, type HostResolver, parseTargetUrl } from '../../src/webhooks/target-policy.js';

const strict = { isPrivateTargetAllowed: false, isHttpAllowed: false };
const dev = { isPrivateTargetAllowed: true, isHttpAllowed: true };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isGatewayError(err) ? err.code : 'other';
  }
}

async function asyncCodeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return isGatewayError(err) ? err.code : 'other';
  }
}

describe('parseTargetUrl', () => {
  it('accepts https and normalizes', () => {
    expect(parseTargetUrl('https://Hooks.Example.com:8443/a?b=1', strict).href).toBe(
      'https://hooks.example.com:8443/a?b=1',
    );
  });
  it('refuses http unless allowed, and any other scheme', () => {
    expect(codeOf(() => parseTargetUrl('http://hooks.example.com/', strict))).toBe(
      'GW_ERR_WEBHOOK_TARGET_FORBIDDEN',
    );
    expect(
      codeOf(() => parseTargetUrl('http://hooks.example.com/', { ...strict, isHttpAllowed: true })),
    ).toBeUndefined();
    expect(codeOf(() => parseTargetUrl('file:///etc/passwd', dev))).toBe('GW_ERR_WEBHOOK_TARGET_FORBIDDEN');
    expect(codeOf(() => parseTargetUrl('gopher://x/', dev))).toBe('GW_ERR_WEBHOOK_TARGET_FORBIDDEN');
  });
  it('refuses malformed URLs, user info and fragments', () => {
    expect(codeOf(() => parseTargetUrl('hooks.example.com', strict))).toBe('GW_ERR_VALIDATION');
    expect(codeOf(() => parseTargetUrl('https://a:b@hooks.example.com/', strict))).toBe('GW_ERR_VALIDATION');
    expect(codeOf(() => parseTargetUrl('https://hooks.example.com/#x', strict))).toBe('GW_ERR_VALIDATION');
    expect(codeOf(() => parseTargetUrl(`https://hooks.example.com/${'a'.repeat(3000)}`, strict))).toBe(
      'GW_ERR_VALIDATION',
    );
  });
  it.each([
    'https://127.0.0.1/',
    'https://0x7f.1/',
    'https://017700000001/',
    'https://169.254.169.254/',
    'https://10.0.0.1/',
    'https://[::1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[0:0:0:0:0:ffff:a00:1]/',
    'https://localhost/',
    'https://LOCALHOST./',
    'https://x.localhost/',
  ])('refuses %s without resolving anything', (url) => {
    expect(codeOf(() => parseTargetUrl(url, strict))).toBe('GW_ERR_WEBHOOK_TARGET_FORBIDDEN');
    expect(codeOf(() => parseTargetUrl(url, { ...strict, isPrivateTargetAllowed: true }))).toBeUndefined();
  });
});

describe('checkTargetUrl', () => {
  const resolver: HostResolver = async (host) => {
    if (host === 'public.test') return ['93.184.216.34'];
    if (host === 'private.test') return ['93.184.216.34', 'fd00::5'];
    if (host === 'flaky.test') throw Object.assign(new Error('timeout'), { code: 'EAI_AGAIN' });
    throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  };
  it('refuses a name with any forbidden address', async () => {
    expect(await asyncCodeOf(checkTargetUrl('https://public.test/', strict, resolver))).toBeUndefined();
    expect(await asyncCodeOf(checkTargetUrl('https://private.test/', strict, resolver))).toBe(
      'GW_ERR_WEBHOOK_TARGET_FORBIDDEN',
    );
  });
  it('refuses a name that does not exist, accepts one DNS cannot answer for now', async () => {
    expect(await asyncCodeOf(checkTargetUrl('https://nx.test/', strict, resolver))).toBe(
      'GW_ERR_WEBHOOK_TARGET_FORBIDDEN',
    );
    expect(await asyncCodeOf(checkTargetUrl('https://flaky.test/', strict, resolver))).toBeUndefined();
  });
  it('gives one answer for every refused host, so refusals map no internal DNS', async () => {
    const answers = new Set<string>();
    for (const url of [
      'https://nx.test/',
      'https://private.test/',
      'https://127.0.0.1/',
      'https://localhost/',
    ]) {
      const refusal = await checkTargetUrl(url, strict, resolver).then(
        () => undefined,
        (err: { code: string; message: string; details?: unknown }) =>
          JSON.stringify([err.code, err.message, err.details]),
      );
      expect(refusal).toBeDefined();
      answers.add(refusal!.replaceAll(new URL(url).hostname, '<host>'));
    }
    expect([...answers]).toHaveLength(1);
  });
  it('does not resolve at all when private targets are allowed', async () => {
    const never: HostResolver = async () => {
      throw new Error('must not be called');
    };
    expect(await asyncCodeOf(checkTargetUrl('https://anything.test/', dev, never))).toBeUndefined();
  });
});

describe('guardedLookup', () => {
  const inner =
    (answers: LookupAddress[]): LookupFunction =>
    (_host, _options, callback) =>
      callback(null, answers);
  const run = (lookup: LookupFunction, all: boolean) =>
    new Promise<{ err: Error | null; address: unknown; family: unknown }>((resolve) =>
      lookup('host.test', { all }, (err, address, family) => resolve({ err, address, family })),
    );

  it('answers in the shape asked for when every address is public', async () => {
    const lookup = guardedLookup(
      inner([
        { address: '93.184.216.34', family: 4 },
        { address: '2606:4700::1', family: 6 },
      ]),
    );
    expect(await run(lookup, false)).toEqual({ err: null, address: '93.184.216.34', family: 4 });
    expect((await run(lookup, true)).address).toHaveLength(2);
  });

  it('refuses the whole name when one address is forbidden', async () => {
    for (const bad of ['127.0.0.1', '::1', '::ffff:10.0.0.1', '169.254.169.254']) {
      const lookup = guardedLookup(
        inner([
          { address: '93.184.216.34', family: 4 },
          { address: bad, family: bad.includes(':') ? 6 : 4 },
        ]),
      );
      const { err } = await run(lookup, false);
      expect(isGatewayError(err) && err.code).toBe('GW_ERR_WEBHOOK_TARGET_FORBIDDEN');
    }
  });
});
