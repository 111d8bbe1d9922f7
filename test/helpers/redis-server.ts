/**
 * A private, throw-away `redis-server` for tests.
 *
 * Why not the Redis on 127.0.0.1:6379: tests must be isolated from whatever else runs on the
 * machine, and fault tests need a server they may kill and restart at will.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REDIS_MISSING_MESSAGE =
  'redis-server not found and REDIS_URL not set: install it (apt-get install redis-server) or set REDIS_URL=redis://host:port';

export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM; SIGKILL when `hard`). Its data is kept on disk for `start()`. */
  stop(options?: { hard?: boolean }): Promise<void>;
  /** Starts it again on the same port with the data it had when stopped. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolves once the server answers PING; rejects when `proc` exits first (e.g. the port was
 * taken between `freePort()` and its bind: another test process got it) or at the deadline.
 */
async function waitForServer(proc: ChildProcess, port: number, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new ServerExitedError(`redis-server on port ${port} exited before it answered`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.write('PING\r\n');
      });
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

class ServerExitedError extends Error {}

/**
 * Loopback only, no persistence but what a test asks for, and `noeviction` as production needs
 * (BullMQ): the arguments every private redis-server of the tests starts with.
 */
export function baseServerArgs(port: number, dir: string): string[] {
  return [
    ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
    ...['--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'],
  ];
}

/**
 * Starts a redis-server on a free port with no persistence except an RDB written at shutdown,
 * so `stop()` then `start()` keeps the data (used by the Redis-outage fault test).
 */
export async function startPrivateRedis(extraArgs: readonly string[] = []): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-redis-'));
  let port = await freePort();
  let child: ChildProcess | undefined;

  // A loaded machine runs many tests that each pick a free port: the one picked here can be
  // taken before redis-server binds it. The first start then moves to another port; a restart
  // (same port, for the clients) tries again a moment later.
  const launch = async (isRestart: boolean): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      const proc = spawn('redis-server', [...baseServerArgs(port, dir), ...extraArgs], { stdio: 'ignore' });
      child = proc;
      try {
        await waitForServer(proc, port, 30_000);
        return;
      } catch (err) {
        if (!(err instanceof ServerExitedError) || attempt >= 5) throw err;
        if (isRestart) await new Promise((r) => setTimeout(r, 200));
        else port = await freePort();
      }
    }
  };

  const stop = async (options: { hard?: boolean } = {}): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    if (!options.hard) {
      // SHUTDOWN SAVE is atomic: SAVE then SIGTERM would let writes acknowledged in between be
      // lost on exit (with `--save ''` Redis does not save on SIGTERM), and a restart would not
      // find data its clients were told was stored.
      spawnSync('redis-cli', ['-p', String(port), 'SHUTDOWN', 'SAVE'], { stdio: 'ignore' });
    }
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(options.hard ? 'SIGKILL' : 'SIGTERM');
    await exited;
    child = undefined;
  };

  await launch(false);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    start: () => launch(true),
    close: async () => {
      await stop({ hard: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
