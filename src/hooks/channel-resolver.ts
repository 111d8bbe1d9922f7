/**
 * Turns a post's `channel` into a room id, asking Rocket.Chat as the hook's owner, the way
 * Rocket.Chat's own incoming webhooks look it up: `#name` is a channel or private group by
 * name, `@username` the direct message with that user (created if need be), anything else a
 * room id, then a name. Rocket.Chat decides what the owner may see: its refusal (403) or
 * "no such room" (404) is what the sender gets, never a guess of ours. Whether the owner may
 * also *post* there is Rocket.Chat's to say when the message is sent; a refusal then is the
 * job's outcome (`GET /v1/hooks/:id/requests`, `GET /v1/messages/:id`).
 */
import { createError, type GatewayError } from '../errors.js';
import { mapUpstreamError } from '../rocketchat/errors.js';
import { ROCKETCHAT_ID } from '../rocketchat-ids.js';
import type { CallRouter } from '../sessions/call-router.js';

export interface ChannelResolverOptions {
  readonly calls: Pick<CallRouter, 'call'>;
  /** One Rocket.Chat call. @defaultValue 10000 */
  readonly callTimeoutMs?: number;
}

const ROOM_ID = ROCKETCHAT_ID;
const ROOM_NAME = /^[^\s#@][^\s]{0,254}$/u;
const USERNAME = /^[^\s@#][^\s]{0,254}$/u;

export class ChannelResolver {
  readonly #calls: Pick<CallRouter, 'call'>;
  readonly #timeoutMs: number;

  constructor(options: ChannelResolverOptions) {
    this.#calls = options.calls;
    this.#timeoutMs = options.callTimeoutMs ?? 10_000;
  }

  /** The room id `channel` names for `userId`; `GW_ERR_FORBIDDEN`/`GW_ERR_NOT_FOUND` as Rocket.Chat says. */
  async resolve(userId: string, channel: string): Promise<string> {
    if (channel.startsWith('@')) {
      const username = channel.slice(1);
      if (!USERNAME.test(username)) throw invalidChannel();
      const room = await this.#call(userId, 'createDirectMessage', [username]);
      return roomIdOf(room, 'rid');
    }
    if (channel.startsWith('#')) return this.#byName(userId, channel.slice(1));
    if (ROOM_ID.test(channel)) {
      try {
        return roomIdOf(await this.#call(userId, 'getRoomById', [channel]), '_id');
      } catch (err) {
        // Rocket.Chat takes a bare value as a room id or a name: try the name before giving up.
        if (!(isNotFound(err) && ROOM_NAME.test(channel))) throw err;
      }
    }
    return this.#byName(userId, channel);
  }

  async #byName(userId: string, name: string): Promise<string> {
    if (!ROOM_NAME.test(name)) throw invalidChannel();
    try {
      return roomIdOf(await this.#call(userId, 'getRoomByTypeAndName', ['c', name]), '_id');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return roomIdOf(await this.#call(userId, 'getRoomByTypeAndName', ['p', name]), '_id');
  }

  async #call(userId: string, method: string, params: readonly unknown[]): Promise<unknown> {
    try {
      return await this.#calls.call(userId, method, params, this.#timeoutMs);
    } catch (err) {
      throw mapUpstreamError(err);
    }
  }
}

function roomIdOf(room: unknown, field: '_id' | 'rid'): string {
  const id = (room as Record<string, unknown> | undefined)?.[field];
  if (typeof id !== 'string' || id === '') {
    throw createError('GW_ERR_UPSTREAM', 'Rocket.Chat answered the room lookup without a room id');
  }
  return id;
}

function isNotFound(err: unknown): boolean {
  return (err as GatewayError | undefined)?.code === 'GW_ERR_NOT_FOUND';
}

function invalidChannel(): GatewayError {
  return createError('GW_ERR_VALIDATION', 'channel: must be "#name", "@username" or a room id', {
    details: { fields: [{ field: 'channel', message: 'must be "#name", "@username" or a room id' }] },
  });
}
