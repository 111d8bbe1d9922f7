/**
 * A real HTTP webhook receiver on port 0 for tests: it records every request (headers, raw body,
 * arrival time), answers as the test scripts it, and can verify signatures with the
 * `standardwebhooks` package, exactly as a production receiver would.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedHook {
  readonly webhookId: string;
  readonly timestamp: string;
  readonly signature: string;
  readonly body: string;
  readonly headers: IncomingHttpHeaders;
  readonly atMs: number;
  /** What the receiver answered (undefined while hanging or when it never answered). */
  status: number | undefined;
}

/** A status (with headers and a body), or `hang`: never answer (until the receiver closes). */
export type Reply =
  | {
      readonly status: number;
      readonly headers?: Readonly<Record<string, string>>;
      readonly body?: string;
    }
  | 'hang';

export type Responder = (hook: ReceivedHook, index: number) => Reply | Promise<Reply>;

export interface WebhookReceiver {
  readonly url: string;
  readonly port: number;
  readonly hits: ReceivedHook[];
  /** TCP connections accepted so far. */
  readonly connectionCount: number;
  /** Requests being handled right now, and the most there ever were at once. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  respond: Responder;
  /** Hits that got a 2xx, by `webhook-id`. */
  delivered(): Map<string, ReceivedHook>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(
  respond: Responder = () => ({ status: 204 }),
): Promise<WebhookReceiver> {
  const hits: ReceivedHook[] = [];
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  let connectionCount = 0;
  let inFlight = 0;
  let maxInFlight = 0;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const header = (name: string): string => String(req.headers[name] ?? '');
      const hook: ReceivedHook = {
        webhookId: header('webhook-id'),
        timestamp: header('webhook-timestamp'),
        signature: header('webhook-signature'),
        body: Buffer.concat(chunks).toString('utf8'),
        headers: req.headers,
        atMs: Date.now(),
        status: undefined,
      };
      const index = hits.push(hook) - 1;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      let reply: Reply;
      try {
        reply = await receiver.respond(hook, index);
      } catch {
        reply = { status: 500 };
      }
      if (reply === 'hang') {
        hanging.add(res);
        res.on('close', () => {
          hanging.delete(res);
          inFlight--;
        });
        return;
      }
      inFlight--;
      hook.status = reply.status;
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket: Socket) => {
    connectionCount++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;

  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    hits,
    get connectionCount() {
      return connectionCount;
    },
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    respond,
    delivered() {
      const map = new Map<string, ReceivedHook>();
      for (const hit of hits) {
        if (hit.status !== undefined && hit.status >= 200 && hit.status < 300) map.set(hit.webhookId, hit);
      }
      return map;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}

/** Verifies a received hook as a Standard Webhooks receiver would; returns the parsed body. */
export function verifyHook(hook: ReceivedHook, secret: string): unknown {
  return new Webhook(secret).verify(hook.body, {
    'webhook-id': hook.webhookId,
    'webhook-timestamp': hook.timestamp,
    'webhook-signature': hook.signature,
  });
}

/** True when `verifyHook` accepts the hook under `secret`. */
export function isSignedWith(hook: ReceivedHook, secret: string): boolean {
  try {
    verifyHook(hook, secret);
    return true;
  } catch {
    return false;
  }
}
