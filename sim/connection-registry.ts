/**
 * Live DDP connections, for fan-out that is not subscription-based (revoke, drop, stats).
 */
import type { StreamSink } from './stream-hub.js';

export interface LiveConnection extends StreamSink {
  readonly session: string | undefined;
  readonly token: string | null;
  readonly remoteAddress: string;
  subscriptionCount(): number;
  /** Logs the connection out in place (subscriptions re-run as anonymous, `removed` users doc). */
  logoutInPlace(): void;
  /** Close handshake with a code, as the server closing a session does. */
  close(code?: number, reason?: string): void;
  /** Drops the TCP connection without a close frame (network fault). */
  terminate(): void;
}

export class ConnectionRegistry {
  private readonly connections = new Set<LiveConnection>();

  add(connection: LiveConnection): void {
    this.connections.add(connection);
  }

  delete(connection: LiveConnection): void {
    this.connections.delete(connection);
  }

  all(): LiveConnection[] {
    return [...this.connections];
  }

  ofUser(userId: string): LiveConnection[] {
    return this.all().filter((connection) => connection.userId === userId);
  }

  get size(): number {
    return this.connections.size;
  }
}
