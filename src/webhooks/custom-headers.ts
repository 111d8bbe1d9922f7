/**
 * Custom request headers per webhook endpoint (svix/svix-webhooks#1495: receivers behind an API
 * gateway want a static `X-Api-Key` or a routing header). Checked hard, because they end up in
 * an outgoing request the gateway signs:
 *
 * - names are RFC 9110 tokens, compared case-insensitively and stored lower-case;
 * - hop-by-hop headers (RFC 9110 §7.6.1) and those the HTTP client owns (`host`,
 *   `content-length`, `content-type`, `transfer-encoding`...) are refused: they would break
 *   framing or lie about the body;
 * - the Standard Webhooks headers (`webhook-*`) are refused, so no endpoint can override or
 *   confuse the signature its receiver verifies;
 * - values are visible ASCII, spaces and tabs only: no CR/LF (header injection, CWE-113), no NUL;
 * - at most 20 headers, 1 KiB per value, 8 KiB in all.
 */
import { createError, type GatewayError } from '../errors.js';

export type CustomHeaders = Readonly<Record<string, string>>;

export const MAX_HEADERS = 20;
export const MAX_NAME_LENGTH = 64;
export const MAX_VALUE_LENGTH = 1024;
const MAX_TOTAL_BYTES = 8 * 1024;

/** RFC 9110 §5.6.2 `token`. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Visible ASCII, space and tab (obs-text left out: receivers disagree on it). */
const VALUE = /^[\x20-\x7e\t]*$/;

const FORBIDDEN = new Set([
  // Hop-by-hop (RFC 9110 §7.6.1) and their relatives.
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // Owned by the client: they describe the request the gateway makes.
  'host',
  'content-length',
  'content-type',
  'content-encoding',
  'expect',
]);

/** Whether a header name may be set per endpoint (already lower-case). */
export function isForbiddenHeaderName(lowerName: string): boolean {
  return FORBIDDEN.has(lowerName) || lowerName.startsWith('webhook-');
}

/**
 * Validates headers from a request body (an object of strings). Returns them with lower-case
 * names; throws `GW_ERR_VALIDATION` naming the header and the rule it breaks.
 */
export function parseCustomHeaders(input: unknown): CustomHeaders {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw invalid('headers must be an object of header names to string values', '');
  }
  const entries = Object.entries(input as Record<string, unknown>);
  if (entries.length > MAX_HEADERS) throw invalid(`at most ${MAX_HEADERS} headers`, '');
  // No prototype: a header named `__proto__` is a valid token and must stay a plain entry.
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let total = 0;
  for (const [name, value] of entries) {
    const lower = name.toLowerCase();
    if (name.length === 0 || name.length > MAX_NAME_LENGTH || !HEADER_NAME.test(name)) {
      throw invalid(`header name must be an HTTP token of 1 to ${MAX_NAME_LENGTH} characters`, name);
    }
    if (isForbiddenHeaderName(lower)) {
      throw invalid(
        'this header cannot be set: hop-by-hop, owned by the HTTP client, or a signature header',
        name,
      );
    }
    if (lower in out) throw invalid('header given twice (names are case-insensitive)', name);
    if (typeof value !== 'string') throw invalid('header value must be a string', name);
    if (value.length > MAX_VALUE_LENGTH) {
      throw invalid(`header value must be at most ${MAX_VALUE_LENGTH} characters`, name);
    }
    if (!VALUE.test(value)) {
      throw invalid('header value may hold only visible ASCII, spaces and tabs (no CR, LF or NUL)', name);
    }
    total += lower.length + value.length;
    if (total > MAX_TOTAL_BYTES) throw invalid(`headers must total at most ${MAX_TOTAL_BYTES} bytes`, name);
    out[lower] = value.trim();
  }
  return out;
}

function invalid(message: string, header: string): GatewayError {
  return createError('GW_ERR_VALIDATION', `headers: ${message}${header ? ` (${header.slice(0, 64)})` : ''}`, {
    details: { field: 'headers', ...(header ? { header: header.slice(0, 64) } : {}) },
  });
}
