/**
 * Which IP addresses a webhook may reach. A webhook URL is chosen by a user, so without this the
 * gateway would POST wherever it is told: the cloud metadata service (169.254.169.254), Redis on
 * 127.0.0.1, the cluster's private network (the classic SSRF, OWASP SSRF Prevention Cheat Sheet).
 *
 * The rule is an allow-list by exclusion over the IANA special-purpose registries
 * (iana.org/assignments/iana-ipv4-special-registry, .../iana-ipv6-special-registry): an address is
 * public unless it falls in a range below. IPv6 forms that embed an IPv4 address (IPv4-mapped
 * `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by the IPv4 address they
 * carry, so `[::ffff:127.0.0.1]` is loopback. Any IPv6 address outside global unicast `2000::/3`
 * is refused outright.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** Why an address is refused; `undefined` from `classifyAddress` means it is public. */
export type ForbiddenAddressKind =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'multicast'
  | 'reserved'
  | 'malformed';

type Range4 = readonly [base: number, prefixLength: number, kind: ForbiddenAddressKind];

const IPV4_RANGES: readonly Range4[] = [
  [ipv4('0.0.0.0'), 8, 'unspecified'], // "this network"
  [ipv4('10.0.0.0'), 8, 'private'],
  [ipv4('100.64.0.0'), 10, 'private'], // carrier-grade NAT (RFC 6598)
  [ipv4('127.0.0.0'), 8, 'loopback'],
  [ipv4('169.254.0.0'), 16, 'link-local'], // includes the metadata service 169.254.169.254
  [ipv4('172.16.0.0'), 12, 'private'],
  [ipv4('192.0.0.0'), 24, 'reserved'], // IETF protocol assignments
  [ipv4('192.0.2.0'), 24, 'reserved'], // TEST-NET-1
  [ipv4('192.88.99.0'), 24, 'reserved'], // 6to4 relay anycast (deprecated)
  [ipv4('192.168.0.0'), 16, 'private'],
  [ipv4('198.18.0.0'), 15, 'reserved'], // benchmarking
  [ipv4('198.51.100.0'), 24, 'reserved'], // TEST-NET-2
  [ipv4('203.0.113.0'), 24, 'reserved'], // TEST-NET-3
  [ipv4('224.0.0.0'), 4, 'multicast'],
  [ipv4('240.0.0.0'), 4, 'reserved'], // includes broadcast 255.255.255.255
];

/**
 * The address kind, or `undefined` when it is a public unicast address a webhook may reach.
 * Accepts IPv4 dotted quads and IPv6 text (with or without `[...]` and a `%zone`).
 */
export function classifyAddress(address: string): ForbiddenAddressKind | undefined {
  let text = address;
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  if (isIPv4(text)) return classifyIpv4(ipv4(text));
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  if (!isIPv6(text)) return 'malformed';
  const bytes = parseIpv6(text);
  return bytes ? classifyIpv6(bytes) : 'malformed';
}

/** True unless `address` is a public unicast address. */
export function isForbiddenAddress(address: string): boolean {
  return classifyAddress(address) !== undefined;
}

function classifyIpv4(value: number): ForbiddenAddressKind | undefined {
  for (const [base, length, kind] of IPV4_RANGES) {
    const mask = length === 0 ? 0 : (~0 << (32 - length)) >>> 0;
    if ((value & mask) >>> 0 === base) return kind;
  }
  return undefined;
}

function classifyIpv6(b: Uint8Array): ForbiddenAddressKind | undefined {
  const zeroUpTo = (n: number): boolean => b.subarray(0, n).every((x) => x === 0);
  const v4At = (i: number): number =>
    ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;

  if (zeroUpTo(16)) return 'unspecified'; // ::
  if (zeroUpTo(15) && b[15] === 1) return 'loopback'; // ::1
  // ::ffff:a.b.c.d (IPv4-mapped): the socket reaches the IPv4 address itself.
  if (zeroUpTo(10) && b[10] === 0xff && b[11] === 0xff) return classifyIpv4(v4At(12));
  // 64:ff9b::/96 (NAT64 well-known prefix): a NAT64 gateway forwards to the embedded address.
  if (
    b[0] === 0x00 &&
    b[1] === 0x64 &&
    b[2] === 0xff &&
    b[3] === 0x9b &&
    b.subarray(4, 12).every((x) => x === 0)
  ) {
    return classifyIpv4(v4At(12));
  }
  // 2002::/16 (6to4): bits 16..47 are the IPv4 address of the relay's far side.
  if (b[0] === 0x20 && b[1] === 0x02) return classifyIpv4(v4At(2));
  if (b[0] === 0xff) return 'multicast'; // ff00::/8
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return 'link-local'; // fe80::/10
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return 'private'; // fec0::/10 (deprecated site-local)
  if ((b[0]! & 0xfe) === 0xfc) return 'private'; // fc00::/7 unique local
  // Outside 2000::/3 nothing is global unicast: ::/96 IPv4-compatible, 100::/64 discard-only,
  // 64:ff9b:1::/48 local NAT64 and the rest of the unassigned space.
  if ((b[0]! & 0xe0) !== 0x20) return 'reserved';
  if (b[0] === 0x20 && b[1] === 0x01 && b[2]! < 0x02) return 'reserved'; // 2001::/23 (Teredo, ORCHID, ...)
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return 'reserved'; // 2001:db8::/32 docs
  if (b[0] === 0x3f && (b[1]! & 0xf0) === 0xf0) return 'reserved'; // 3fff::/20 documentation
  return undefined;
}

/** A dotted quad (already validated by `isIPv4`) as an unsigned 32-bit number. */
function ipv4(text: string): number {
  const parts = text.split('.').map(Number);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** IPv6 text (validated by `isIPv6`, zone removed) as 16 bytes; undefined if it cannot be read. */
function parseIpv6(text: string): Uint8Array | undefined {
  let groups: number[];
  let head = text;
  // A trailing dotted quad (`::ffff:1.2.3.4`) stands for the last two groups.
  const lastColon = head.lastIndexOf(':');
  const tail = head.slice(lastColon + 1);
  let embedded: number[] = [];
  if (tail.includes('.')) {
    if (!isIPv4(tail)) return undefined;
    const v4 = ipv4(tail);
    embedded = [v4 >>> 16, v4 & 0xffff];
    head = head.slice(0, lastColon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const expand = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16));
  const gap = head.indexOf('::');
  if (gap === -1) {
    groups = [...expand(head), ...embedded];
  } else {
    const left = expand(head.slice(0, gap));
    const right = [...expand(head.slice(gap + 2)), ...embedded];
    const missing = 8 - left.length - right.length;
    if (missing < 0) return undefined;
    groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  }
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) return undefined;
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >>> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}
