/**
 * Schema builders for environment variables. Each takes the raw string and yields a typed value,
 * or one issue whose message completes "<NAME>: ..." (the variable name and the value it got are
 * added by `loadConfig`).
 */
import { isIP } from 'node:net';
import { z } from 'zod';

// Node runs a timer above this after 1 ms instead (a 32-bit signed int of ms, ~24.8 days), so a
// larger duration would fire at once rather than late.
export const MAX_TIMER_MS = 2 ** 31 - 1;
export const MiB = 1024 * 1024;

/** The schema of one variable: a string in, a `T` out. */
export type EnvField<T> = z.ZodPipe<z.ZodString, z.ZodTransform<Awaited<T>, string>>;

/** A field parsed by `parse`, which returns undefined when the value is not acceptable. */
function field<T>(message: string, parse: (raw: string) => T | undefined): EnvField<T> {
  return z.string().transform((raw, ctx): T => {
    const value = parse(raw);
    if (value === undefined) {
      ctx.addIssue(message);
      return z.NEVER;
    }
    return value;
  });
}

function parseInteger(raw: string, min: number, max: number): number | undefined {
  const text = raw.trim();
  if (!/^-?\d+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) && value >= min && value <= max ? value : undefined;
}

export function integer(min: number, max: number): EnvField<number> {
  return field(`must be an integer between ${min} and ${max}`, (raw) => parseInteger(raw, min, max));
}

/** A duration in milliseconds that is used as a timer delay, so at most `MAX_TIMER_MS`. */
export function durationMs(min = 1, max = MAX_TIMER_MS): EnvField<number> {
  return field(`must be a whole number of milliseconds between ${min} and ${max}`, (raw) =>
    parseInteger(raw, min, max),
  );
}

export function port(): EnvField<number> {
  return integer(1, 65_535);
}

const TRUE_WORDS = new Set(['true', '1', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'no']);

export function boolean(): EnvField<boolean> {
  return field('must be one of true, false, 1, 0, yes, no', (raw) => {
    const word = raw.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    return undefined;
  });
}

export function oneOf<const T extends string>(values: readonly T[]): EnvField<T> {
  return field(`must be one of ${values.join(', ')}`, (raw) => {
    const text = raw.trim();
    return (values as readonly string[]).includes(text) ? (text as T) : undefined;
  });
}

/** Free text, taken as given (secrets may legitimately contain spaces). */
export function text(minLength = 1, message = 'must not be empty'): EnvField<string> {
  return field(message, (raw) => (raw.length >= minLength ? raw : undefined));
}

/** An identifier safe inside Redis keys, log fields and ciphertext envelopes. */
export function identifier(maxLength: number): EnvField<string> {
  const pattern = new RegExp(`^[A-Za-z0-9._-]{1,${maxLength}}$`);
  return field(`must be 1 to ${maxLength} characters of A-Z, a-z, 0-9, '.', '_', '-'`, (raw) =>
    pattern.test(raw.trim()) ? raw.trim() : undefined,
  );
}

/**
 * An absolute URL with one of `protocols` (e.g. `['http:', 'https:']`), without query or
 * fragment, and without user info unless `allowsCredentials` (a Redis password belongs there).
 */
export function url(protocols: readonly string[], message: string, allowsCredentials = false): EnvField<URL> {
  return field(message, (raw) => {
    const parsed = URL.canParse(raw.trim()) ? new URL(raw.trim()) : undefined;
    if (!parsed || !protocols.includes(parsed.protocol) || parsed.search || parsed.hash) return undefined;
    if (!allowsCredentials && (parsed.username || parsed.password)) return undefined;
    return parsed;
  });
}

/** A comma-separated list; blank items (a trailing comma) are ignored. */
export function list<T>(message: string, parseItem: (item: string) => T | undefined): EnvField<T[]> {
  return field(message, (raw) => {
    const items = raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
    const values: T[] = [];
    for (const item of items) {
      const value = parseItem(item);
      if (value === undefined) return undefined;
      values.push(value);
    }
    return values.length > 0 ? values : undefined;
  });
}

export function durationList(min: number, max: number): EnvField<number[]> {
  return list(
    `must be a comma-separated list of whole milliseconds, each between ${min} and ${max}`,
    (item) => parseInteger(item, min, max),
  );
}

/** A CORS origin as browsers send it (`https://app.example.com`, no path), or `*`. */
export function origins(): EnvField<string[]> {
  return list("must be a comma-separated list of origins like https://app.example.com, or '*'", (item) => {
    if (item === '*') return item;
    const candidate = item.replace(/\/$/, '');
    if (!URL.canParse(candidate)) return undefined;
    const { origin } = new URL(candidate);
    return origin !== 'null' && origin === candidate ? origin : undefined;
  });
}

// Standard or URL-safe alphabet, padding optional.
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

export function decodeKey(encoded: string, bytes: number): Buffer | undefined {
  const text = encoded.trim();
  if (!BASE64.test(text)) return undefined;
  const key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return key.length === bytes ? key : undefined;
}

export interface EncryptionKey {
  readonly id: string;
  readonly key: Buffer;
}

// No '.': key ids sit between dots in sealed credentials (`v1.<keyId>.<iv>...`, token-cipher.ts).
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function keyId(): EnvField<string> {
  return field("must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '-'", (raw) =>
    KEY_ID.test(raw.trim()) ? raw.trim() : undefined,
  );
}

export function encryptionKey(): EnvField<Buffer> {
  return field('must be 32 bytes, base64-encoded (generate one with: openssl rand -base64 32)', (raw) =>
    decodeKey(raw, 32),
  );
}

export function encryptionKeyList(): EnvField<EncryptionKey[]> {
  return list<EncryptionKey>(
    'must be a comma-separated list of <key id>:<32 bytes, base64>, e.g. k0:3q2+7w...=',
    (item) => {
      const colonAt = item.indexOf(':');
      const id = item.slice(0, colonAt);
      const key = colonAt > 0 ? decodeKey(item.slice(colonAt + 1), 32) : undefined;
      return key && KEY_ID.test(id) ? { id, key } : undefined;
    },
  );
}

/** Express' `trust proxy`: `false`, a number of hops, or addresses/CIDRs and proxy-addr's names. */
export type TrustProxy = false | number | string[];

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyAddress(item: string): boolean {
  if (PROXY_NAMES.has(item)) return true;
  const [address, bits, extra] = item.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  const prefix = parseInteger(bits, 0, family === 4 ? 32 : 128);
  return prefix !== undefined;
}

/**
 * Which proxies may set `X-Forwarded-For` (so that `req.ip`, used by the per-IP rate limits, is
 * the client's). `true` is refused: it would trust whatever a client writes in the header.
 */
export function trustProxy(): EnvField<TrustProxy> {
  return field(
    'must be false, a number of proxy hops (1 behind one ingress), or a comma-separated list of addresses, CIDRs, loopback, linklocal, uniquelocal',
    (raw) => {
      const text = raw.trim().toLowerCase();
      if (FALSE_WORDS.has(text)) return false;
      const hops = parseInteger(text, 1, 100);
      if (hops !== undefined) return hops;
      const items = text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
      return items.length > 0 && items.every(isProxyAddress) ? items : undefined;
    },
  );
}
