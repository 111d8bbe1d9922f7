/**
 * The outgoing-integration token of a `rocketchat` webhook: Rocket.Chat puts it in every body
 * (`token`) and receivers compare it with the one they were configured with. Given at creation
 * (to keep an existing receiver's configured token) or generated.
 */
import { randomBytes } from 'node:crypto';
import { createError } from '../errors.js';

/** Printable ASCII without spaces, 8 to 256 characters: any token Rocket.Chat shows fits. */
export const ROCKETCHAT_TOKEN = /^[\x21-\x7e]{8,256}$/;

/** 24 base64url characters, the length of the tokens Rocket.Chat generates. */
export function generateRocketChatToken(): string {
  return randomBytes(18).toString('base64url');
}

export function parseRocketChatToken(value: unknown): string {
  if (typeof value !== 'string' || !ROCKETCHAT_TOKEN.test(value)) {
    throw createError(
      'GW_ERR_VALIDATION',
      'token must be 8 to 256 printable ASCII characters without spaces',
      {
        details: { field: 'token' },
      },
    );
  }
  return value;
}
