/**
 * When each message reaches a subscriber of its room: bob's own DDP session on
 * `stream-room-messages`. Benchmarks time "stored upstream" by this, on this process' clock,
 * rather than by the message's `ts`: the simulator's clock is strictly monotonic and runs ahead
 * of the wall clock by a millisecond per write under a burst (sim/clock.ts), which after a few
 * thousand messages shows as seconds of false latency.
 */
import { DdpClient } from '../../src/ddp/index.js';
import { loginOverDdp } from '../../src/rocketchat/login.js';

export async function ddpLogin(url: string, token: string): Promise<DdpClient> {
  const client = new DdpClient({
    url,
    callTimeoutMs: 120_000,
    onConnected: async (ctx) => {
      await loginOverDdp(ctx.call, { kind: 'resume', token });
    },
  });
  await client.connect();
  return client;
}

export class RoomObserver {
  /** Message text -> when it first arrived (performance.now()). */
  readonly seen = new Map<string, number>();
  readonly #waiters = new Map<string, () => void>();

  constructor(readonly client: DdpClient) {}

  /** Subscribes the rooms and starts recording. */
  static async open(wsUrl: string, token: string, rooms: readonly string[]): Promise<RoomObserver> {
    const observer = new RoomObserver(await ddpLogin(wsUrl, token));
    for (const rid of rooms) {
      observer.client.onStream('stream-room-messages', rid, (streamArgs) =>
        observer.onMessage(streamArgs[0] as { msg?: string }),
      );
      await observer.client.subscribe('stream-room-messages', [rid, { useCollection: false, args: [] }]);
    }
    return observer;
  }

  onMessage(message: { msg?: string }): void {
    if (typeof message.msg !== 'string' || this.seen.has(message.msg)) return;
    this.seen.set(message.msg, performance.now());
    this.#waiters.get(message.msg)?.();
    this.#waiters.delete(message.msg);
  }

  waitFor(text: string): Promise<void> {
    if (this.seen.has(text)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.set(text, resolve));
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
