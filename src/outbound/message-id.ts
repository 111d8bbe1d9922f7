/**
 * Rocket.Chat message ids, made by the gateway before the first attempt so that no retry can
 * post a message twice: Rocket.Chat honours a client `_id` and inserts nothing when a message
 * with that id exists (docs/simulator-protocol.md §4, sendMessage).
 */
import { randomInt } from 'node:crypto';
import { ROCKETCHAT_ID } from '../rocketchat-ids.js';

/** Meteor `Random.id()`'s alphabet: no 0/1/I/O/l, so ids survive being read aloud or retyped. */
const UNMISTAKABLE_CHARS = '23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz';
const ID_LENGTH = 17;

/** A 17-character Meteor-style id from a CSPRNG (Meteor's own ids are unpredictable too). */
export function newMessageId(): string {
  let id = '';
  for (let i = 0; i < ID_LENGTH; i++) id += UNMISTAKABLE_CHARS.charAt(randomInt(UNMISTAKABLE_CHARS.length));
  return id;
}

const MESSAGE_ID = ROCKETCHAT_ID;

/** Message ids as Rocket.Chat makes them (17-char Random ids, imported ids): nothing that breaks a key. */
export function isMessageId(value: string): boolean {
  return MESSAGE_ID.test(value);
}
