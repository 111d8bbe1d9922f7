/**
 * Where secrets sit in what the gateway logs, as pino `redact` paths. pino's `*` matches one
 * level only, so each secret key is listed at the top level and under one and two wildcards:
 * `{ password }`, `{ body: { password } }`, `{ frame: { result: { token } } }`.
 */

const SECRET_KEYS = [
  'password',
  'token',
  'authToken',
  'resume',
  'secret',
  'access_token',
  'accessToken',
  'privateKey',
  'encryptionKey',
];

// Express lower-cases incoming header names; outbound requests we build use Rocket.Chat's casing.
const SECRET_HEADERS = [
  'authorization',
  'Authorization',
  'x-auth-token',
  'X-Auth-Token',
  'cookie',
  'Cookie',
  'set-cookie',
  'Set-Cookie',
];

export const REDACT_PATHS: readonly string[] = [
  ...SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
  ...SECRET_HEADERS.flatMap((header) => [`headers["${header}"]`, `*.headers["${header}"]`]),
  // DDP login frames: `{ msg: 'method', method: 'login', params: [{ resume }] }` or `[{ user, password }]`.
  'params[*].resume',
  'params[*].password',
  '*.params[*].resume',
  '*.params[*].password',
];
