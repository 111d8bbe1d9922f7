/**
 * The `/websocket` endpoint: upgrades, the refuse-connections fault (HTTP 503), and shutdown.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { SimContext } from './context.js';
import { DdpConnection, type Transport } from './ddp-connection.js';

function reject(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

export class DdpServer {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private closing = false;

  constructor(private readonly ctx: SimContext) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const transport = this.transportFor(req.url ?? '/');
    if (!transport) {
      reject(socket, '404 Not Found');
      return;
    }
    if (this.closing || this.ctx.faults.isRefusing()) {
      reject(socket, '503 Service Unavailable');
      return;
    }
    const raw = req.socket.remoteAddress ?? '';
    const remoteAddress = raw.startsWith('::ffff:') ? raw.slice(7) : raw;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.closing) {
        ws.terminate();
        return;
      }
      new DdpConnection(ws, this.ctx, remoteAddress, socket, transport);
    });
  }

  /**
   * Meteor serves raw DDP on `/websocket` (and `/websocket/`). The streamer speaks raw frames only
   * on exactly `/websocket`; any other url, a base-path prefix or a query string included, gets
   * SockJS framing.
   */
  private transportFor(url: string): Transport | undefined {
    if (this.ctx.flavor.current === 'streamer') {
      return url === '/websocket' ? 'raw' : 'sockjs';
    }
    const pathname = new URL(url, 'http://localhost').pathname;
    return pathname === '/websocket' || pathname === '/websocket/' ? 'raw' : undefined;
  }

  /** Drops every socket (no close handshake to wait for) and stops accepting upgrades. */
  async close(): Promise<void> {
    this.closing = true;
    for (const connection of this.ctx.connections.all()) {
      connection.terminate();
    }
    for (const client of this.wss.clients) {
      client.terminate();
    }
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
