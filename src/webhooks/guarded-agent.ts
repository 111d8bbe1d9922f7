/**
 * The undici dispatcher webhook deliveries go through. Its connector enforces the address policy
 * (`ip-policy.ts`) on the address the socket connects to, not on an earlier DNS answer, which is
 * what defeats DNS rebinding (the name answers a public address when checked and 127.0.0.1 when
 * connected):
 * - an IP literal host is checked before connecting (Node does not call `lookup` for those);
 * - a host name goes through a `lookup` that refuses the name if any of its addresses is
 *   forbidden, so the socket only ever dials addresses that passed;
 * - after connecting, the socket's `remoteAddress` is checked once more, whatever path led there.
 * Redirects are never followed: undici follows them only with the redirect interceptor, which is
 * not installed (deliveries dispatch on this agent directly, post-exchange.ts), so a 3xx is just a
 * failed attempt (as in Svix).
 */
import type { LookupAddress, LookupOptions } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns';
import { isIP, type Socket } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { classifyAddress } from './ip-policy.js';
import { HOST_REFUSED, targetForbidden } from './target-policy.js';

/** `dns.lookup`'s callback shape, for both `all: false` and `all: true`. */
type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** The resolver the guard wraps; `dns.lookup` by default. Tests pass one to simulate rebinding. */
export type LookupFunction = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

export interface GuardedAgentOptions {
  /** When true, no address check is made (development and tests). */
  readonly isPrivateTargetAllowed: boolean;
  /** Connect timeout; the whole attempt is bounded by the caller's own timeout as well. */
  readonly connectTimeoutMs: number;
  /** How long an idle keep-alive connection is kept. @defaultValue 30000 */
  readonly keepAliveTimeoutMs?: number;
  /** @defaultValue `dns.lookup` */
  readonly lookup?: LookupFunction;
}

export function createGuardedAgent(options: GuardedAgentOptions): Agent {
  const keepAliveTimeout = options.keepAliveTimeoutMs ?? 30_000;
  if (options.isPrivateTargetAllowed) {
    return new Agent({ connect: { timeout: options.connectTimeoutMs }, keepAliveTimeout });
  }
  const lookup = guardedLookup(options.lookup ?? (dnsLookup as unknown as LookupFunction));
  const connect = buildConnector({
    timeout: options.connectTimeoutMs,
    lookup,
  } as buildConnector.BuildOptions);
  const guarded: buildConnector.connector = (connectOptions, callback) => {
    const host = unbracket(connectOptions.hostname);
    if (isIP(host) !== 0) {
      if (classifyAddress(host) !== undefined) {
        callback(targetForbidden(HOST_REFUSED), null);
        return;
      }
    }
    connect(connectOptions, (err, socket) => {
      if (err || !socket) {
        callback(err ?? new Error('connect failed'), null);
        return;
      }
      const remote = (socket as Socket).remoteAddress;
      const kind = remote === undefined ? 'malformed' : classifyAddress(remote);
      if (kind !== undefined) {
        socket.destroy();
        callback(targetForbidden(HOST_REFUSED), null);
        return;
      }
      callback(null, socket);
    });
  };
  return new Agent({ connect: guarded, keepAliveTimeout });
}

/**
 * A `lookup` that answers only when every address of the name is allowed. Refusing the whole name
 * (rather than dropping its bad addresses) is deliberate: a name that mixes public and private
 * answers is a rebinding attempt or a misconfiguration, and either way not a target.
 */
export function guardedLookup(inner: LookupFunction): LookupFunction {
  return (hostname, options, callback) => {
    inner(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) {
        callback(err, '');
        return;
      }
      const list = (Array.isArray(addresses) ? addresses : []) as LookupAddress[];
      if (list.some((entry) => classifyAddress(entry.address) !== undefined)) {
        callback(targetForbidden(HOST_REFUSED) as NodeJS.ErrnoException, '');
        return;
      }
      const first = list[0];
      if (!first) {
        const notFound: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
        notFound.code = 'ENOTFOUND';
        callback(notFound, '');
        return;
      }
      if (options.all) callback(null, list);
      else callback(null, first.address, first.family);
    });
  };
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
