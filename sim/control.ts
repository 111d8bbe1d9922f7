/**
 * `SimControl`: the simulator's test-side API (the same operations as the HTTP control API under
 * `/sim/`). Acting "as a user" goes through the same code paths as that user's client would.
 */

import { sha256Hex } from './auth.js';
import type { SimContext } from './context.js';
import {
  type CreateRoomInput,
  type CreateUserInput,
  type PostMessageExtra,
  SimControlError,
  type SimStatsSnapshot,
  type SimUserInfo,
} from './control-types.js';
import { FLAVORS, type Flavor, isFlavor } from './flavor.js';
import type { FrameFilter, FrameRecord } from './frame-log.js';
import { randomId } from './ids.js';
import type { FloodResult } from './message-service.js';
import { MeteorError } from './meteor-error.js';
import { type RevokeOptions, revokeUserTokens } from './token-revocation.js';
import type { SimMessage, SimRoom, SimUser, UserStatus } from './types.js';

function clone<T>(value: T): T {
  return structuredClone(value);
}

export class SimControl {
  constructor(private readonly ctx: SimContext) {}

  createUser(input: CreateUserInput): SimUserInfo {
    const { store, clock } = this.ctx;
    if (!/^[0-9a-zA-Z\-_.]+$/.test(input.username)) {
      throw new SimControlError(400, 'invalid-username', `Invalid username: ${input.username}`);
    }
    if (store.userByUsername(input.username)) {
      throw new SimControlError(409, 'user-exists', `User ${input.username} already exists`);
    }
    const now = clock.date();
    const user: SimUser = {
      _id: randomId(),
      createdAt: now,
      username: input.username,
      name: input.name ?? input.username,
      emails: [{ address: input.email ?? `${input.username}@example.com`, verified: true }],
      type: 'user',
      active: true,
      roles: input.roles ?? ['user'],
      status: 'offline',
      statusDefault: 'online',
      utcOffset: 0,
      _updatedAt: now,
      password: input.password,
      passwordDigest: sha256Hex(input.password),
    };
    store.addUser(user);
    return this.info(user);
  }

  user(username: string): SimUserInfo {
    return this.info(this.requireUser(username));
  }

  userId(username: string): string {
    return this.requireUser(username)._id;
  }

  createRoom(input: CreateRoomInput): SimRoom {
    const members = input.members.map((name) => this.requireUser(name));
    return this.wrap(() => {
      if (input.t === 'd') {
        return clone(this.ctx.rooms.createDirect(members));
      }
      if (!input.name) {
        throw new SimControlError(400, 'invalid-name', 'A channel or group needs a name');
      }
      const owner = input.owner ? this.requireUser(input.owner) : members[0];
      return clone(
        this.ctx.rooms.createRoom({
          t: input.t,
          name: input.name,
          ...(owner ? { owner } : {}),
          members,
          readOnly: input.readOnly ?? false,
        }),
      );
    });
  }

  /** Posts as `username` through sendMessage's path. A duplicate `_id` returns the stored message. */
  postMessage(username: string, rid: string, msg: string, extra: PostMessageExtra = {}): SimMessage {
    const user = this.requireUser(username);
    return this.wrap(() => {
      const sent = this.ctx.messages.executeSend(user, { ...extra, rid, msg });
      const stored = sent ?? (extra._id ? this.ctx.store.message(extra._id) : undefined);
      if (!stored) {
        throw new SimControlError(500, 'not-stored', 'The message was not stored');
      }
      return clone(stored);
    });
  }

  /** Edits without permission checks; the editor defaults to the author. */
  editMessage(messageId: string, msg: string, username?: string): SimMessage {
    const message = this.requireMessage(messageId);
    const editor = username ? this.requireUser(username) : this.ctx.store.userById(message.u._id);
    if (!editor) {
      throw new SimControlError(404, 'unknown-user', 'The author no longer exists; pass a username');
    }
    return clone(this.ctx.edits.applyEdit(message, editor, msg));
  }

  deleteMessage(messageId: string): void {
    this.ctx.edits.applyDelete(this.requireMessage(messageId));
  }

  /** Deletes several messages of a room at once, announced as one `<rid>/deleteMessageBulk`. */
  deleteMessagesBulk(rid: string, messageIds: readonly string[]): string[] {
    return this.ctx.edits.applyBulkDelete(rid, messageIds);
  }

  react(username: string, messageId: string, emoji: string, shouldReact?: boolean): SimMessage {
    const user = this.requireUser(username);
    const message = this.requireMessage(messageId);
    this.ctx.edits.applyReaction(message, user, `:${emoji.replace(/:/g, '')}:`, shouldReact);
    return clone(message);
  }

  setPresence(username: string, status: UserStatus, statusText?: string): void {
    if (!['online', 'away', 'busy', 'offline'].includes(status)) {
      throw new SimControlError(400, 'invalid-status', `Invalid status: ${status}`);
    }
    this.ctx.presence.force(this.requireUser(username), status, statusText);
  }

  /** Emits `<rid>/typing` and `<rid>/user-activity` as if the user's client had sent them. */
  setTyping(username: string, rid: string, typing: boolean): void {
    const user = this.requireUser(username);
    this.ctx.notifier.notifyRoom(rid, 'user-activity', [
      user.username,
      typing ? ['user-typing'] : [],
      undefined,
    ]);
    this.ctx.notifier.notifyRoom(rid, 'typing', [user.username, typing]);
  }

  /** Drops every DDP socket (or only the user's) without a close frame; returns how many. */
  dropConnections(username?: string): number {
    const targets = username
      ? this.ctx.connections.ofUser(this.requireUser(username)._id)
      : this.ctx.connections.all();
    for (const connection of targets) {
      connection.terminate();
    }
    return targets.length;
  }

  /** Which Rocket.Chat DDP server new connections answer like (open ones keep theirs). */
  get flavor(): Flavor {
    return this.ctx.flavor.current;
  }

  setFlavor(flavor: Flavor): void {
    if (!isFlavor(flavor)) {
      throw new SimControlError(400, 'invalid-flavor', `flavor must be one of ${FLAVORS.join(', ')}`);
    }
    this.ctx.flavor.current = flavor;
  }

  /** Every later call of `method` waits `ms` before it runs, holding its connection's queue. */
  slowMethod(method: string, ms: number): void {
    this.ctx.faults.slowMethod(method, Math.max(0, ms));
  }

  setIgnorePings(enabled: boolean): void {
    this.ctx.faults.ignorePings = enabled;
  }

  setFrameDelay(ms: number): void {
    this.ctx.faults.frameDelayMs = Math.max(0, ms);
  }

  refuseConnections(ms: number): void {
    this.ctx.faults.refuseConnections(ms);
  }

  /** Expires the user's tokens: resume logins fail from now on; live connections keep working. */
  expireTokens(username: string): number {
    return this.ctx.auth.expireAll(this.requireUser(username)._id);
  }

  /** Removes the user's tokens: `force_logout`, then their connections are closed (see RevokeOptions). */
  revokeTokens(username: string, options: RevokeOptions = {}): number {
    return revokeUserTokens(this.ctx, this.requireUser(username)._id, options);
  }

  /** A fresh resume token, like a personal access token. */
  tokenFor(username: string): { userId: string; authToken: string } {
    const user = this.requireUser(username);
    return { userId: user._id, authToken: this.ctx.auth.issue(user._id).token };
  }

  forceRateLimit(name: string, count: number, timeToResetMs = 300): void {
    this.ctx.ddpLimiter.force(name, count, timeToResetMs);
  }

  /** Stored live messages, ascending `ts` (system messages included, they have `t`). */
  roomMessages(rid: string): SimMessage[] {
    return clone([...this.ctx.store.roomMessages(rid)]);
  }

  deletedMessages(rid: string): { _id: string; rid: string; _deletedAt: Date }[] {
    return this.ctx.store
      .deletedMessages(rid)
      .map((d) => ({ _id: d._id, rid: d.rid, _deletedAt: new Date(d._deletedAt) }));
  }

  frames(filter: FrameFilter = {}): FrameRecord[] {
    return this.ctx.frames.query(filter);
  }

  clearFrames(): void {
    this.ctx.frames.clear();
  }

  /** DDP and REST login attempts with that username (or with one of its tokens). */
  loginAttempts(username: string): number {
    const stats = this.ctx.auth.attemptsOf(username);
    return stats.ddp + stats.rest;
  }

  connectionCount(): number {
    return this.ctx.connections.size;
  }

  flood(rid: string, count: number, username?: string): FloodResult {
    const room = this.ctx.store.room(rid);
    if (!room) {
      throw new SimControlError(404, 'unknown-room', `No room ${rid}`);
    }
    const fallback = this.ctx.store.subscriptionsOfRoom(rid)[0]?.u.username;
    const user = this.requireUser(
      username ?? (this.ctx.store.userByUsername('bob') ? 'bob' : (fallback ?? '')),
    );
    return this.ctx.messages.flood(room, user, Math.max(0, Math.floor(count)));
  }

  stats(): SimStatsSnapshot {
    const { ctx } = this;
    return {
      connections: ctx.connections.size,
      sessions: ctx.connections.all().map((c) => ({
        connectionId: c.connectionId,
        ...(c.session ? { session: c.session } : {}),
        userId: c.userId,
        ...(c.userId ? { username: ctx.store.userById(c.userId)?.username ?? '' } : {}),
        subscriptions: c.subscriptionCount(),
      })),
      loginAttempts: ctx.auth.allAttempts(),
      frames: ctx.frames.counts(),
      restClients: Object.fromEntries([...ctx.stats.restClients].map(([ip, c]) => [ip, { ...c }])),
      internalErrors: ctx.stats.internalErrors,
      ...(ctx.stats.lastInternalError ? { lastInternalError: ctx.stats.lastInternalError } : {}),
    };
  }

  private info(user: SimUser): SimUserInfo {
    return { _id: user._id, username: user.username, name: user.name, status: user.status };
  }

  private requireUser(username: string): SimUser {
    const user = this.ctx.store.userByUsername(username);
    if (!user) {
      throw new SimControlError(404, 'unknown-user', `No user ${username}`);
    }
    return user;
  }

  private requireMessage(messageId: string): SimMessage {
    const message = this.ctx.store.message(messageId);
    if (!message) {
      throw new SimControlError(404, 'unknown-message', `No message ${messageId}`);
    }
    return message;
  }

  /** Maps Rocket.Chat errors raised by the shared code paths to control errors. */
  private wrap<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof SimControlError) {
        throw err;
      }
      const code =
        err instanceof MeteorError ? String(err.error) : err instanceof Error ? err.message : String(err);
      throw new SimControlError(400, code, err instanceof Error ? err.message : String(err));
    }
  }
}
