/**
 * Whether a URL may be a webhook target, checked when a webhook is registered or changed. This is
 * the early, friendly check; the one that matters runs again at delivery time on the address the
 * socket actually connects to (`guarded-agent.ts`), because DNS can change in between (DNS
 * rebinding: a name that resolved to a public address at registration answers 127.0.0.1 later).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { createError, type GatewayError } from '../errors.js';
import { classifyAddress } from './ip-policy.js';

export interface TargetPolicy {
  /** Loopback, private, link-local and reserved targets are allowed (development and tests). */
  readonly isPrivateTargetAllowed: boolean;
  /** `http:` targets are allowed besides `https:`. */
  readonly isHttpAllowed: boolean;
}

/** Resolves a host name to every address it has (A and AAAA). */
export type HostResolver = (hostname: string) => Promise<readonly string[]>;

export const systemResolver: HostResolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/** Longer URLs are refused: they end up in every attempt record and log line. */
export const MAX_TARGET_URL_LENGTH = 2048;

/**
 * The one reason given for every refused host, whatever the refusal was (an IP literal, a
 * localhost name, a name resolving to a private address, a name that does not resolve): told
 * apart, they would let anyone who may register a webhook map the internal DNS.
 */
export const HOST_REFUSED =
  'the host must be a public address, or a name that resolves only to public addresses';

/** Builds the 400 `GW_ERR_WEBHOOK_TARGET_FORBIDDEN` error; `reason` is safe to show the owner. */
export function targetForbidden(reason: string): GatewayError {
  return createError('GW_ERR_WEBHOOK_TARGET_FORBIDDEN', `The webhook target URL is not allowed: ${reason}`, {
    details: { field: 'url', reason },
  });
}

/** The host of a URL without IPv6 brackets, as sockets and resolvers want it. */
export function bareHostname(url: URL): string {
  const host = url.hostname;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * The checks that need no network: a well-formed absolute `https:` (or allowed `http:`) URL,
 * without user info or fragment, whose host is not a forbidden IP literal or a `localhost` name.
 * Returns the normalized URL.
 *
 * @throws GatewayError `GW_ERR_VALIDATION` for a malformed URL, `GW_ERR_WEBHOOK_TARGET_FORBIDDEN`
 *   for a refused scheme or host.
 */
export function parseTargetUrl(raw: string, policy: TargetPolicy): URL {
  if (raw.length > MAX_TARGET_URL_LENGTH) {
    throw createError('GW_ERR_VALIDATION', `url must be at most ${MAX_TARGET_URL_LENGTH} characters`, {
      details: { field: 'url' },
    });
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw createError('GW_ERR_VALIDATION', 'url must be an absolute http(s) URL', {
      details: { field: 'url' },
    });
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.isHttpAllowed)) {
    throw targetForbidden(
      policy.isHttpAllowed ? 'the scheme must be https or http' : 'the scheme must be https',
    );
  }
  // Credentials in the URL would be stored and shown in listings; a fragment is never sent.
  if (url.username !== '' || url.password !== '') {
    throw createError('GW_ERR_VALIDATION', 'url must not contain a user name or password', {
      details: { field: 'url' },
    });
  }
  if (url.hash !== '') {
    throw createError('GW_ERR_VALIDATION', 'url must not contain a fragment', { details: { field: 'url' } });
  }
  if (policy.isPrivateTargetAllowed) return url;
  const host = bareHostname(url);
  if (isIP(host) !== 0) {
    if (classifyAddress(host) !== undefined) throw targetForbidden(HOST_REFUSED);
  } else if (isLocalhostName(host)) {
    // RFC 6761 section 6.3: localhost names are loopback whatever DNS says.
    throw targetForbidden(HOST_REFUSED);
  }
  return url;
}

/**
 * `parseTargetUrl`, then resolves a host name and refuses it when any of its addresses is
 * forbidden or it does not exist (with the same answer, `HOST_REFUSED`); a resolver that cannot
 * answer now (timeout, SERVFAIL) does not block registration, since the delivery-time guard decides.
 */
export async function checkTargetUrl(
  raw: string,
  policy: TargetPolicy,
  resolve: HostResolver = systemResolver,
): Promise<URL> {
  const url = parseTargetUrl(raw, policy);
  if (policy.isPrivateTargetAllowed) return url;
  const host = bareHostname(url);
  if (isIP(host) !== 0) return url;
  let addresses: readonly string[];
  try {
    addresses = await resolve(host);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') throw targetForbidden(HOST_REFUSED);
    return url;
  }
  if (addresses.some((address) => classifyAddress(address) !== undefined))
    throw targetForbidden(HOST_REFUSED);
  return url;
}

function isLocalhostName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}
