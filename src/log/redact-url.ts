/**
 * URLs carry secrets in two places the gateway knows of: the SSE query token
 * (`/v1/events?access_token=...`, for EventSource clients that cannot set headers) and the token
 * segment of incoming-webhook URLs (`/hooks/:id/:token`). Both are replaced before a URL is logged.
 *
 * Works on the raw string rather than through `new URL()`, which would re-encode the rest and
 * make logged URLs differ from what the client sent.
 */

export const REDACTED = '[REDACTED]';

// Compared lower-cased. `access_token` is the gateway's own; the rest are common enough in
// Rocket.Chat (`rc_token` on file URLs) and elsewhere to be worth catching too.
const SECRET_QUERY_KEYS = new Set([
  'access_token',
  'token',
  'rc_token',
  'auth_token',
  'authtoken',
  'password',
  'secret',
]);

const HOOK_TOKEN_PATH = /^((?:[a-z][a-z0-9+.-]*:\/\/[^/]*)?\/hooks\/[^/]+\/)[^/]+/i;

export function redactUrl(url: string): string {
  const hashAt = url.indexOf('#');
  const beforeHash = hashAt === -1 ? url : url.slice(0, hashAt);
  const hash = hashAt === -1 ? '' : url.slice(hashAt);
  const queryAt = beforeHash.indexOf('?');
  const path = queryAt === -1 ? beforeHash : beforeHash.slice(0, queryAt);
  const redactedPath = path.replace(HOOK_TOKEN_PATH, `$1${REDACTED}`);
  if (queryAt === -1) return redactedPath + hash;
  const query = beforeHash
    .slice(queryAt + 1)
    .split('&')
    .map((pair) => {
      const equalsAt = pair.indexOf('=');
      const key = equalsAt === -1 ? pair : pair.slice(0, equalsAt);
      return equalsAt !== -1 && SECRET_QUERY_KEYS.has(decodeKey(key)) ? `${key}=${REDACTED}` : pair;
    })
    .join('&');
  return `${redactedPath}?${query}${hash}`;
}

function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    // Malformed percent-encoding: compare as written, which still catches the plain spelling.
    return key.toLowerCase();
  }
}
