/**
 * Wiring: builds the context, seeds it, and serves HTTP (REST + control) and DDP on one port.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthService } from './auth.js';
import { createMonotonicClock } from './clock.js';
import { ConnectionRegistry } from './connection-registry.js';
import type { SimContext } from './context.js';
import { SimControl } from './control.js';
import { DdpServer } from './ddp-server.js';
import { Faults } from './faults.js';
import { FrameLog } from './frame-log.js';
import { createHttpApp } from './http-app.js';
import { MessageEdits } from './message-edits.js';
import { MessageService } from './message-service.js';
import { Notifier } from './notifier.js';
import { resolveOptions, type SimulatorOptions } from './options.js';
import { PresenceService } from './presence.js';
import { DdpRateLimiter } from './rate-limiter.js';
import { RoomService } from './room-service.js';
import { seedWorld } from './seed.js';
import { Store } from './store.js';
import { StreamHub } from './stream-hub.js';

export interface Simulator {
  /** `http://127.0.0.1:PORT` (REST at `/api/v1`, control at `/sim/`). */
  readonly url: string;
  /** `ws://127.0.0.1:PORT/websocket`. */
  readonly wsUrl: string;
  readonly port: number;
  readonly control: SimControl;
  /** Closes every socket and timer; idempotent. */
  close(): Promise<void>;
}

function createContext(options: SimulatorOptions | undefined): SimContext {
  const resolved = resolveOptions(options);
  const clock = createMonotonicClock();
  const store = new Store();
  const hub = new StreamHub();
  const notifier = new Notifier(store, hub);
  const messages = new MessageService(store, clock, notifier, { maxMessageSize: resolved.maxMessageSize });
  return {
    options: resolved,
    flavor: { current: resolved.flavor },
    clock,
    store,
    auth: new AuthService(store, clock, resolved.tokenLifetimeMs),
    hub,
    notifier,
    presence: new PresenceService(store, clock, notifier),
    messages,
    edits: new MessageEdits(store, clock, notifier, messages),
    rooms: new RoomService(store, clock, notifier, hub, messages),
    ddpLimiter: new DdpRateLimiter(resolved.rateLimits),
    faults: new Faults(),
    frames: new FrameLog(),
    connections: new ConnectionRegistry(),
    stats: { internalErrors: 0, restClients: new Map() },
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startSimulator(options?: SimulatorOptions): Promise<Simulator> {
  const ctx = createContext(options);
  const control = new SimControl(ctx);
  if (ctx.options.seed) {
    seedWorld(ctx, control);
  }
  const ddp = new DdpServer(ctx);
  const server = createServer(createHttpApp(ctx, control));
  server.on('upgrade', (req, socket, head) => ddp.handleUpgrade(req, socket, head));
  const port = await listen(server, ctx.options.port, ctx.options.host);
  const host = ctx.options.host.includes(':') ? `[${ctx.options.host}]` : ctx.options.host;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const errors: unknown[] = [];
      await ddp.close().catch((err: unknown) => errors.push(err));
      await new Promise<void>((resolve) => {
        server.close((err) => {
          if (err) {
            errors.push(err);
          }
          resolve();
        });
        server.closeAllConnections();
      });
      if (errors.length > 0) {
        throw new AggregateError(errors, 'simulator close failed');
      }
    })();
    return closing;
  };

  return { url: `http://${host}:${port}`, wsUrl: `ws://${host}:${port}/websocket`, port, control, close };
}
