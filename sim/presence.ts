/**
 * User presence (RC Presence service): a user is online while at least one DDP connection is
 * logged in as them, away when every such connection reported `UserPresence:away`, and always
 * follows an explicit default status (busy, away, offline). Changes go out as `user-status`,
 * `<uid>/userData` and on stream-user-presence.
 */
import type { Clock } from './clock.js';
import type { Notifier } from './notifier.js';
import type { Store } from './store.js';
import type { SimUser, UserStatus } from './types.js';

export class PresenceService {
  private readonly connections = new Map<string, Map<string, 'online' | 'away'>>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly notifier: Notifier,
  ) {}

  connectionLoggedIn(uid: string, connectionId: string): void {
    this.connectionsOf(uid).set(connectionId, 'online');
    this.recompute(uid);
  }

  connectionGone(uid: string, connectionId: string): void {
    this.connections.get(uid)?.delete(connectionId);
    this.recompute(uid);
  }

  /** `UserPresence:away` / `UserPresence:online`. */
  setConnectionStatus(uid: string, connectionId: string, status: 'online' | 'away'): void {
    const map = this.connections.get(uid);
    if (map?.has(connectionId)) {
      map.set(connectionId, status);
      this.recompute(uid);
    }
  }

  /** `UserPresence:setDefaultStatus`. */
  setDefaultStatus(uid: string, status: UserStatus): void {
    const user = this.store.userById(uid);
    if (user) {
      user.statusDefault = status;
      this.recompute(uid);
    }
  }

  /** Control API: sets the status outright (and the default, so it sticks), even with no connection. */
  force(user: SimUser, status: UserStatus, statusText?: string): void {
    user.statusDefault = status;
    if (statusText !== undefined) {
      user.statusText = statusText;
    }
    this.apply(user, status, true);
  }

  private recompute(uid: string): void {
    const user = this.store.userById(uid);
    if (!user) {
      return;
    }
    const states = [...(this.connections.get(uid)?.values() ?? [])];
    let status: UserStatus;
    if (states.length === 0 || user.statusDefault === 'offline') {
      status = 'offline';
    } else if (user.statusDefault === 'online' && states.every((state) => state === 'away')) {
      status = 'away';
    } else {
      status = user.statusDefault;
    }
    this.apply(user, status, false);
  }

  private apply(user: SimUser, status: UserStatus, always: boolean): void {
    if (!always && user.status === status) {
      return;
    }
    user.status = status;
    user._updatedAt = this.clock.date();
    this.notifier.userStatus(user);
  }

  private connectionsOf(uid: string): Map<string, 'online' | 'away'> {
    let map = this.connections.get(uid);
    if (!map) {
      map = new Map();
      this.connections.set(uid, map);
    }
    return map;
  }
}
