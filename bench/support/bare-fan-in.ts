/**
 * The least a worker can do for one upstream event, as a floor for the sessions bench: N user
 * sockets (plain `ws`) in this process receive one broadcast frame each; each parses it and
 * logs it with one script call (XADD to the user's stream, PUBLISH to the user's channel) on one
 * ioredis connection whose turns leave in one write each (coalesced-writes.ts, as the gateway's;
 * cheaper than ioredis' auto-pipelining), keys hash-tagged per user as the gateway's are. No EJSON,
 * no normalizing, no de-duplication, no fence, no ordering queue: what the gateway's per-event
 * work is measured against. Lag is from the frame's arrival on its socket to the script's reply,
 * as the gateway's `onLogged` lag.
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import { coalesceWrites } from '../../src/redis/coalesced-writes.js';
import { startChild } from './stats.js';

const LOG_SCRIPT = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'b', ARGV[3])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return id`;

export interface FanInFigures {
  /** Frame arrival -> logged, ms, one per event. */
  readonly lagsMs: number[];
  /** This process' CPU (user + system) per event logged over the load, µs. */
  readonly cpuUsecPerEvent: number;
  readonly logged: number;
  readonly expected: number;
}

export async function measureBareFanIn(options: {
  readonly redisUrl: string;
  readonly users: number;
  readonly rate: number;
  readonly seconds: number;
}): Promise<FanInFigures> {
  const { child, firstLine } = await startChild('bench/support/broadcast-server.ts');
  const base = `ws://127.0.0.1:${firstLine.trim()}`;
  const redis = coalesceWrites(new Redis(options.redisUrl));
  const sha = (await redis.script('LOAD', LOG_SCRIPT)) as string;
  const lagsMs: number[] = [];
  const sockets: WebSocket[] = [];
  const opened = (socket: WebSocket): Promise<void> =>
    new Promise((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
  for (let user = 0; user < options.users; user++) {
    const socket = new WebSocket(base, { perMessageDeflate: false });
    const stream = `bare:{u:${user}}:events`;
    const channel = `bare:{u:${user}}:live`;
    socket.on('message', (data: Buffer) => {
      const receivedAt = performance.now();
      const text = data.toString();
      const frame = JSON.parse(text) as { msg?: string };
      if (frame.msg !== 'changed') return;
      void redis.evalsha(sha, 1, stream, 10_000, channel, text).then(() => {
        lagsMs.push(performance.now() - receivedAt);
      });
    });
    sockets.push(socket);
    await opened(socket);
  }
  const control = new WebSocket(`${base}/control`, { perMessageDeflate: false });
  await opened(control);

  const total = options.rate * options.seconds;
  const expected = total * options.users;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / options.rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    control.send('1');
  }
  const deadline = Date.now() + 60_000;
  while (lagsMs.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const cpu = process.cpuUsage(cpuBefore);
  const logged = lagsMs.length;

  for (const socket of [...sockets, control]) socket.terminate();
  const keys = await redis.keys('bare:*');
  for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
  await redis.quit();
  child.kill('SIGTERM');
  return { lagsMs, cpuUsecPerEvent: (cpu.user + cpu.system) / Math.max(1, logged), logged, expected };
}
