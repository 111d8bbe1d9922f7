/**
 * Identifier generators with Meteor's alphabets, so ids and tokens look exactly like the ones a
 * real Rocket.Chat hands out (Meteor `Random.id()` / `Random.secret()`).
 */
import { randomBytes } from 'node:crypto';

/** Meteor `Random.id()` alphabet: no 0/1/I/O/l to avoid look-alikes. */
const UNMISTAKABLE_CHARS = '23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz';
/** Meteor `Random.secret()` alphabet (base64url). */
const BASE64_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

// Random bytes are drawn in batches: one crypto call per 4 KiB instead of one per character.
let pool = Buffer.alloc(0);
let offset = 0;

/** A uniform index below `size` (< 256), by rejection sampling over pooled random bytes. */
function randomIndex(size: number): number {
  const limit = 256 - (256 % size);
  for (;;) {
    if (offset >= pool.length) {
      pool = randomBytes(4096);
      offset = 0;
    }
    const byte = pool[offset++] ?? 0;
    if (byte < limit) {
      return byte % size;
    }
  }
}

function pick(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) {
    out += alphabet.charAt(randomIndex(alphabet.length));
  }
  return out;
}

/** A 17-character Meteor document id (users, rooms, messages, DDP sessions). */
export function randomId(length = 17): string {
  return pick(UNMISTAKABLE_CHARS, length);
}

/** A 43-character login token, the shape of Meteor `Accounts._generateStampedLoginToken().token`. */
export function randomSecret(length = 43): string {
  return pick(BASE64_CHARS, length);
}
