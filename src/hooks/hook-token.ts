/**
 * Hook ids and tokens. The URL `<PUBLIC_URL>/hooks/<id>/<token>` is the only credential of
 * `POST /hooks/:id/:token`, so the token is 256 random bits, shown once, and stored only as its
 * SHA-256 (a leaked Redis dump does not let anyone post). A slow hash would add nothing: the
 * token is random, not a password, so there is no dictionary to guess from.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** `hk_` + 16 random bytes, base64url. */
export const HOOK_ID_PATTERN = /^hk_[A-Za-z0-9_-]{22}$/;
/** 32 random bytes, base64url. */
export const HOOK_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newHookId(): string {
  return `hk_${randomBytes(16).toString('base64url')}`;
}

export function newHookToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The stored form of a token: its SHA-256, base64url. */
export function hashHookToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

// Compared against when the hook does not exist, so an unknown id costs the same work as a
// wrong token (the endpoint must be no oracle for which ids exist).
const ABSENT_HASH = hashHookToken(newHookToken());

/**
 * Whether `token` hashes to `storedHash`, in constant time for equal lengths (both are SHA-256
 * digests, so they always are). An absent `storedHash` still does the same comparison, and fails.
 */
export function isTokenValid(token: string, storedHash: string | undefined): boolean {
  const given = Buffer.from(hashHookToken(token));
  const expected = Buffer.from(storedHash ?? ABSENT_HASH);
  const isEqual = given.length === expected.length && timingSafeEqual(given, expected);
  return isEqual && storedHash !== undefined;
}
