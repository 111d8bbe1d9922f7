/**
 * A bare DDP-over-WebSocket client for wire-level tests: it records every frame and lets a test
 * wait (with a bound) for the next frame matching a predicate. No protocol smarts on purpose;
 * it never answers pings unless told to.
 */
import { createHash } from 'node:crypto';
import WebSocket from 'ws';

export type Frame = Record<string, unknown>;

export interface WaitOptions {
  timeoutMs?: number;
  /** Only frames received at or after this index (see `mark()`). @defaultValue the current mark */
  from?: number;
}

export class RawDdpClient {
  /** Parsed frames in arrival order (non-JSON frames are stored as `{raw}`). */
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private cursor = 0;
  private nextId = 0;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      let frame: Frame;
      try {
        frame = JSON.parse(text) as Frame;
      } catch {
        frame = { raw: text };
      }
      this.frames.push(frame);
      for (const wake of [...this.waiters]) {
        wake();
      }
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const wake of [...this.waiters]) {
          wake();
        }
      });
    });
  }

  static open(url: string): Promise<RawDdpClient> {
    const ws = new WebSocket(url);
    const client = new RawDdpClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  /** Opens, sends `connect` (version 1) and waits for `connected`. */
  static async connect(url: string): Promise<RawDdpClient> {
    const client = await RawDdpClient.open(url);
    client.send({ msg: 'connect', version: '1', support: ['1', 'pre2', 'pre1'] });
    await client.waitFor((f) => f['msg'] === 'connected');
    return client;
  }

  /** Connects and logs in by password; the mark is set after the login's frames. */
  static async loggedIn(url: string, username: string, password: string): Promise<RawDdpClient> {
    const client = await RawDdpClient.connect(url);
    const result = await client.loginWithPassword(username, password);
    if (result['error'] !== undefined) {
      await client.close();
      throw new Error(`login as ${username} failed: ${JSON.stringify(result['error'])}`);
    }
    client.mark();
    return client;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(frame: Frame | string): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Index of the next frame to arrive; later waits only look from here. */
  mark(): number {
    this.cursor = this.frames.length;
    return this.cursor;
  }

  /** Resolves with the first frame (at or after `from`) matching `predicate`, or rejects after the timeout. */
  waitFor(predicate: (frame: Frame) => boolean, options: WaitOptions = {}): Promise<Frame> {
    const from = options.from ?? this.cursor;
    const timeoutMs = options.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (let i = from; i < this.frames.length; i += 1) {
          const frame = this.frames[i];
          if (frame && predicate(frame)) {
            cleanup();
            resolve(frame);
            return true;
          }
        }
        if (this.ws.readyState === WebSocket.CLOSED) {
          cleanup();
          reject(
            new Error(`socket closed while waiting; frames: ${JSON.stringify(this.frames.slice(from))}`),
          );
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(`timed out after ${timeoutMs} ms; frames: ${JSON.stringify(this.frames.slice(from))}`),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
      };
      const wake = (): void => {
        check();
      };
      if (!check()) {
        this.waiters.add(wake);
      }
    });
  }

  /** Frames received since `from` (default: the mark). */
  since(from = this.cursor): Frame[] {
    return this.frames.slice(from);
  }

  id(prefix = 'm'): string {
    this.nextId += 1;
    return `${prefix}${this.nextId}`;
  }

  /** Sends a method call; resolves with its `result` frame once `updated` has also arrived. */
  async call(method: string, params: unknown[] = [], id = this.id()): Promise<Frame> {
    const from = this.frames.length;
    this.send({ msg: 'method', id, method, params });
    const result = await this.waitFor((f) => f['msg'] === 'result' && f['id'] === id, { from });
    await this.waitFor(
      (f) => f['msg'] === 'updated' && Array.isArray(f['methods']) && f['methods'].includes(id),
      { from },
    );
    return result;
  }

  /** Subscribes; resolves with the `ready` or `nosub` frame for that id. */
  async sub(name: string, params: unknown[], id = this.id('s')): Promise<Frame> {
    const from = this.frames.length;
    this.send({ msg: 'sub', id, name, params });
    return this.waitFor(
      (f) =>
        (f['msg'] === 'ready' && Array.isArray(f['subs']) && f['subs'].includes(id)) ||
        (f['msg'] === 'nosub' && f['id'] === id),
      { from },
    );
  }

  loginWithPassword(username: string, password: string): Promise<Frame> {
    const digest = createHash('sha256').update(password, 'utf8').digest('hex');
    return this.call('login', [{ user: { username }, password: { digest, algorithm: 'sha-256' } }]);
  }

  loginWithToken(token: string): Promise<Frame> {
    return this.call('login', [{ resume: token }]);
  }

  async close(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) {
      this.ws.terminate();
    }
    await this.closed;
  }
}

/** Polls `probe` every 10 ms until it returns a truthy value; fails after `timeoutMs` (no fixed sleeps). */
export async function waitUntil<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
