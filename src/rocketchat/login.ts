/**
 * DDP `login` as Rocket.Chat (Meteor accounts) speaks it (docs/simulator-protocol.md section 3), and the
 * sorting of its failures into "retrying cannot help" and "try again later".
 */
import { createHash } from 'node:crypto';
import { DdpFatalError, DdpRemoteError } from '../ddp/index.js';
import type { LoginResult, RocketChatCredentials } from './credentials.js';

type Call = <T>(method: string, params: readonly unknown[]) => Promise<T>;

/** Lowercase hex SHA-256 of the UTF-8 password: the digest Meteor's accounts-password expects. */
export function passwordDigest(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('hex');
}

export function loginParams(credentials: RocketChatCredentials): unknown {
  if (credentials.kind === 'resume') return { resume: credentials.token };
  return {
    user: credentials.username.includes('@')
      ? { email: credentials.username }
      : { username: credentials.username },
    password: { digest: passwordDigest(credentials.password), algorithm: 'sha-256' },
  };
}

/**
 * Login errors after which another attempt with the same credentials is pointless: bad or
 * revoked credentials (403/401, which current Rocket.Chat uses for every handler failure),
 * a deactivated user, 2FA demands. Rate limits and server errors are worth retrying.
 */
const PERMANENT_LOGIN_ERRORS = new Set<string | number>([
  401,
  403,
  'error-user-is-not-activated',
  'error-app-user-is-not-allowed-to-login',
  'error-invalid-email',
  'totp-required',
  'totp-invalid',
  'totp-max-attempts',
  'error-login-blocked-for-user',
  'error-login-blocked-for-ip',
]);

export class CredentialsRejectedError extends DdpFatalError {
  readonly upstreamError: string | number;
  constructor(cause: DdpRemoteError) {
    super(`Rocket.Chat refused the credentials: ${cause.reason ?? cause.error}`, { cause });
    this.upstreamError = cause.error;
  }
}

export function isPermanentLoginError(err: unknown): err is DdpRemoteError {
  return err instanceof DdpRemoteError && PERMANENT_LOGIN_ERRORS.has(err.error);
}

interface RawLoginResult {
  id?: unknown;
  token?: unknown;
  tokenExpires?: unknown;
}

export async function loginOverDdp(call: Call, credentials: RocketChatCredentials): Promise<LoginResult> {
  let raw: RawLoginResult | undefined;
  try {
    raw = await call<RawLoginResult | undefined>('login', [loginParams(credentials)]);
  } catch (err) {
    if (isPermanentLoginError(err)) throw new CredentialsRejectedError(err);
    throw err;
  }
  if (!raw || typeof raw.id !== 'string' || typeof raw.token !== 'string') {
    throw new Error('Rocket.Chat login returned no user id or token');
  }
  return {
    userId: raw.id,
    token: raw.token,
    // A garbage `$date` decodes to an Invalid Date, which the credential store refuses.
    tokenExpiresAt:
      raw.tokenExpires instanceof Date && !Number.isNaN(raw.tokenExpires.getTime())
        ? raw.tokenExpires
        : undefined,
  };
}
