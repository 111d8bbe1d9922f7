/**
 * SSE fan-out: N clients (plain node:http, in their own process) on one room, M events.
 * Each server runs in its own process, and all of them in the same run:
 * - `bare`: a node:http server writing one pre-serialized frame per event to every client (the
 *   baseline);
 * - `better-sse`: the better-sse library's Channel broadcasting the same envelopes;
 * - `gateway (log append)`: the real gateway; this process appends the events to the user's
 *   event log (the Lua append, Redis Pub/Sub, LiveHub, SseHub, one SseConnection per client);
 * - `gateway (sim flood)`: the whole pipeline: the simulator floods the room, the gateway's
 *   session decodes the DDP frames, normalizes, logs, and fans out.
 * Reported: events delivered per second (frames received by all clients / time from the first
 * send to the last receipt) and its ratio to the bare server; p50/p99 latency from the send
 * (or the append, or the wall-clock time the sender wrote in a Rocket.Chat message) to the
 * receipt, at a steady `--latency-load` deliveries per second (events/s = load / N); memory per
 * idle connection at `--idle` connections, measured first, on fresh processes, as a ratio to the
 * bare server's.
 *
 * Every gateway connection belongs to one user (one session, one event log): this measures the
 * SSE fan-out, not N upstream sessions (the sessions benchmark measures those).
 *
 * The three servers run as the image runs the gateway (bench/support/built-harness.ts): compiled
 * JavaScript (built into dist/ first) under plain node, with the Dockerfile's `MALLOC_ARENA_MAX=2`
 * and `NODE_ENV=production` (a value of `MALLOC_ARENA_MAX` in this process's environment wins).
 * `--runtime tsx` runs them from source instead, as this bench did before 2026-12-07.
 *
 * Usage: node --import tsx bench/sse-fanout.bench.ts [--clients 100,1000] [--deliveries 1000000]
 *        [--rounds 3] [--latency-load 5000] [--latency-seconds 4] [--idle 5000]
 *        [--flood no] [--throughput no] [--runtime built|tsx] [--idle-settle 30]
 *        (BENCH_CPU_PROF=<dir> writes a CPU profile of each server process there)
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { EventLog } from '../src/events/event-log.js';
import { createKeys } from '../src/redis/keys.js';
import { startPrivateRedis } from '../test/helpers/redis-server.js';
import { BUILT_SSE_SERVER, buildHarness, deployedEnv } from './support/built-harness.js';
import { startSimulatorProcess } from './support/simulator-process.js';
import { fileLimits, IpcChild } from './support/sse-ipc.js';
import {
  type ClientCommand,
  type ClientReply,
  type LatencySource,
  type Measurement,
  monotonicNow,
  type ServerCommand,
  type ServerReply,
} from './support/sse-protocol.js';
import { formatRate, median, ratio } from './support/stats.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const CLIENT_COUNTS = (args.get('clients') ?? '100,1000').split(',').map(Number);
const DELIVERIES = Number(args.get('deliveries') ?? 1_000_000);
const ROUNDS = Number(args.get('rounds') ?? 3);
/** Deliveries per second during the latency phase: well below what any server here sustains. */
const LATENCY_LOAD = Number(args.get('latency-load') ?? 5000);
const LATENCY_SECONDS = Number(args.get('latency-seconds') ?? 4);
const IDLE_WANTED = Number(args.get('idle') ?? 5000);
/**
 * Seconds the idle connections are left alone before the last reading: long enough for V8's own
 * memory reducer (which collects once a process stops allocating) to run, as it would in a
 * deployed process that went idle. The RSS is read with no collection forced after 1 s and after
 * this; the figures per connection come after two forced full collections.
 */
const IDLE_SETTLE_S = Number(args.get('idle-settle') ?? 30);
/** `--flood no` leaves the simulator flood out (to profile the log-append path alone). */
const WITH_FLOOD = args.get('flood') !== 'no';
/** `--throughput no` stops after the memory phase (the 10,000-idle-connection line). */
const WITH_THROUGHPUT = args.get('throughput') !== 'no';
/** `--runtime tsx`: the servers from source under tsx, without the image's environment. */
const IS_BUILT = (args.get('runtime') ?? 'built') === 'built';
/** Sockets a process needs beyond its SSE connections (Redis, the simulator, stdio...). */
const FD_HEADROOM = 500;

type Server = IpcChild<ServerCommand, ServerReply>;
type Clients = IpcChild<ClientCommand, ClientReply>;

interface Target {
  readonly name: string;
  readonly server: Server;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly latency: LatencySource;
  /** Sends `count` events, `ratePerSecond` apart (0: as fast as it goes). */
  send(count: number, ratePerSecond: number): Promise<void>;
}

interface Figures {
  readonly rate: number[];
  readonly p50: number[];
  readonly p99: number[];
}

interface MemoryPerConnection {
  readonly rss: number;
  readonly heap: number;
  /** The whole process with the connections open. */
  readonly totalRss: number;
  /** The same, with no collection forced: 1 s after the last connection opened, and after the settle. */
  readonly totalRssAt1s: number;
  readonly totalRssAsFound: number;
  readonly totalHeap: number;
}

async function paced(
  count: number,
  ratePerSecond: number,
  sendOne: (i: number) => Promise<unknown>,
): Promise<void> {
  const started = performance.now();
  for (let i = 1; i <= count; i++) {
    const wait = started + ((i - 1) * 1000) / ratePerSecond - performance.now();
    if (wait > 0) await sleep(wait);
    await sendOne(i);
  }
}

async function postJson<T>(url: string, body: unknown): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function waitForConnections(server: Server, count: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await server.request({ op: 'connections' }, 'connections');
    if (reply.count === count) return;
    if (Date.now() > deadline)
      throw new Error(`${server.name}: ${reply.count} connections, expected ${count}`);
    await sleep(20);
  }
}

async function openClients(clients: Clients, target: Target, count: number): Promise<void> {
  const opened = await clients.request(
    { op: 'open', url: target.url, count, headers: target.headers },
    'opened',
    300_000,
  );
  if (opened.failed > 0 || opened.open !== count)
    throw new Error(`${target.name}: ${opened.failed} of ${count} connections failed (${opened.firstError})`);
  await waitForConnections(target.server, count);
}

async function closeClients(clients: Clients, target: Target): Promise<void> {
  await clients.request({ op: 'close' }, 'closed', 120_000);
  await waitForConnections(target.server, 0);
}

/** Starts counting, runs `send`, and resolves with what the clients saw (or fails with progress). */
async function measure(
  clients: Clients,
  perConnection: number,
  latency: LatencySource,
  send: () => Promise<void>,
  timeoutMs: number,
): Promise<Measurement> {
  await clients.request({ op: 'measure', perConnection, latency }, 'measuring');
  const measured = clients.request(undefined, 'measured', timeoutMs);
  await send();
  try {
    return (await measured).result;
  } catch (err) {
    const status = await clients.request({ op: 'status' }, 'status');
    throw new Error(`${(err as Error).message}; received ${status.result.frames} frames so far`);
  }
}

async function runTarget(
  clients: Clients,
  target: Target,
  count: number,
  events: number,
): Promise<{ rate: number; p50: number; p99: number }> {
  await openClients(clients, target, count);
  try {
    const startedAt = monotonicNow();
    const burst = await measure(clients, events, 'none', () => target.send(events, 0), 300_000);
    const deliveries = burst.frames / ((burst.lastAt - startedAt) / 1000);
    const rate = Math.max(1, Math.round(LATENCY_LOAD / count));
    const steadyEvents = Math.max(10, Math.round(rate * LATENCY_SECONDS));
    const steady = await measure(
      clients,
      steadyEvents,
      target.latency,
      () => target.send(steadyEvents, rate),
      120_000,
    );
    return { rate: deliveries, p50: steady.p50Ms, p99: steady.p99Ms };
  } finally {
    await closeClients(clients, target);
  }
}

/** The server's memory (after GC) with `count` idle connections open, less without, per connection. */
async function memoryPerConnection(
  clients: Clients,
  target: Target,
  count: number,
  whileOpen: () => Promise<void>,
): Promise<MemoryPerConnection> {
  // A few connections first, so that what is paid once (the gateway's upstream session, code
  // compiled on first use) is not counted per connection.
  await openClients(clients, target, 10);
  await closeClients(clients, target);
  const before = await target.server.request({ op: 'memory' }, 'memory');
  await openClients(clients, target, count);
  // Let the connections settle (first writes flushed, timers armed) before weighing them.
  await sleep(1000);
  const at1s = await target.server.request({ op: 'rss' }, 'rss');
  await sleep(Math.max(0, IDLE_SETTLE_S * 1000 - 1000));
  const after = await target.server.request({ op: 'memory' }, 'memory');
  await whileOpen();
  await closeClients(clients, target);
  return {
    rss: (after.rss - before.rss) / count,
    heap: (after.heapUsed - before.heapUsed) / count,
    totalRss: after.rss,
    totalRssAt1s: at1s.rss,
    totalRssAsFound: after.rssAsFound,
    totalHeap: after.heapUsed,
  };
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

async function main(): Promise<void> {
  const limits = fileLimits();
  const idle = Math.min(IDLE_WANTED, Math.max(0, limits.hard - FD_HEADROOM));
  const openFiles = Math.min(limits.hard, idle + FD_HEADROOM);

  const privateRedis = process.env.REDIS_URL ? undefined : await startPrivateRedis();
  const redisUrl = process.env.REDIS_URL ?? privateRedis!.url;
  const sim = await startSimulatorProcess(['--no-rate-limits', '--no-rest-rate-limit']);
  const simUrl = sim.url;
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  // BENCH_CPU_PROF=<dir>: each server writes a V8 CPU profile there when it exits
  // (summarize with bench/support/profile-summary.ts).
  const profileDir = process.env['BENCH_CPU_PROF'];
  if (IS_BUILT) buildHarness();
  const serverOptions = {
    nodeArgs: ['--expose-gc', ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])],
    openFiles,
    ...(IS_BUILT ? { env: deployedEnv() } : {}),
  };
  const startServer = (name: string, serverArgs: string[]): Server =>
    IpcChild.start<ServerCommand, ServerReply>(
      name,
      IS_BUILT ? BUILT_SSE_SERVER : 'bench/support/sse-server.ts',
      serverArgs,
      serverOptions,
    );
  const servers = {
    bare: startServer('bare', ['bare']),
    betterSse: startServer('better-sse', ['better-sse']),
    gateway: startServer('gateway', ['gateway', redisUrl, simUrl, prefix]),
  };
  const clients: Clients = IpcChild.start('clients', 'bench/support/sse-clients.ts', [], { openFiles });
  const redis = new Redis(redisUrl);
  try {
    const [bare, betterSse, gateway] = await Promise.all([
      servers.bare.request(undefined, 'ready'),
      servers.betterSse.request(undefined, 'ready'),
      servers.gateway.request(undefined, 'ready'),
      clients.request(undefined, 'ready'),
    ]);
    const gatewayUrl = `http://127.0.0.1:${gateway.port}`;
    const login = await postJson<{ token: string; userId: string }>(`${gatewayUrl}/v1/sessions`, {
      username: 'alice',
      password: 'alice-pass',
    });
    const eventLog = new EventLog({
      redis,
      keys: createKeys(prefix),
      maxLength: 10_000,
      maxAgeMs: 86_400_000,
    });
    let seq = 0;
    const appendOne = (): Promise<unknown> => {
      seq++;
      const sentAt = monotonicNow();
      return eventLog.append({
        type: 'message.created',
        userId: login.userId,
        roomId: 'GENERAL',
        ts: new Date().toISOString(),
        data: { _id: `bench${seq}`, rid: 'GENERAL', msg: `bench ${seq}`, sentAt },
      });
    };
    const broadcast =
      (server: Server) =>
      async (count: number, ratePerSecond: number): Promise<void> => {
        await server.request({ op: 'broadcast', count, ratePerSecond }, 'broadcasted', 300_000);
      };
    const gatewayStream = {
      server: servers.gateway,
      url: `${gatewayUrl}/v1/events?topics=room:GENERAL`,
      headers: { authorization: `Bearer ${login.token}` },
    };
    const targets: Target[] = [
      {
        name: 'bare node:http',
        server: servers.bare,
        url: `http://127.0.0.1:${bare.port}/sse`,
        headers: {},
        latency: 'sentAt',
        send: broadcast(servers.bare),
      },
      {
        name: 'better-sse Channel',
        server: servers.betterSse,
        url: `http://127.0.0.1:${betterSse.port}/sse`,
        headers: {},
        latency: 'sentAt',
        send: broadcast(servers.betterSse),
      },
      {
        name: 'gateway (log append)',
        ...gatewayStream,
        latency: 'sentAt',
        send: async (count, ratePerSecond) => {
          if (ratePerSecond > 0) return paced(count, ratePerSecond, appendOne);
          // As fast as Redis takes them: in order on one connection, a window at a time.
          for (let done = 0; done < count; ) {
            const batch = Math.min(256, count - done);
            await Promise.all(Array.from({ length: batch }, appendOne));
            done += batch;
          }
        },
      },
      {
        name: 'gateway (sim flood)',
        ...gatewayStream,
        // Not the message's `ts`: after a flood the simulator's clock runs ahead of the wall clock.
        latency: 'message-text',
        send: async (count, ratePerSecond) => {
          if (ratePerSecond > 0) {
            return paced(count, ratePerSecond, (i) =>
              postJson(`${simUrl}/sim/messages`, {
                username: 'bob',
                rid: 'GENERAL',
                msg: `steady ${i} @${Date.now()}`,
              }),
            );
          }
          await postJson(`${simUrl}/sim/flood`, { rid: 'GENERAL', count, username: 'bob' });
        },
      },
    ];

    console.log(
      `sse-fanout: clients ${CLIENT_COUNTS.join(', ')}; about ${DELIVERIES} deliveries per burst; ` +
        `${ROUNDS} rounds (servers alternate, medians count); latency at ${LATENCY_LOAD} deliveries/s ` +
        `for ${LATENCY_SECONDS} s; node ${process.version}; servers ` +
        (IS_BUILT
          ? `built (dist/, plain node, MALLOC_ARENA_MAX=${deployedEnv().MALLOC_ARENA_MAX})`
          : `from source (tsx, MALLOC_ARENA_MAX=${process.env['MALLOC_ARENA_MAX'] ?? 'unset'})`),
    );
    if (idle < IDLE_WANTED)
      console.log(`open-files hard limit ${limits.hard}: idle connections lowered to ${idle}`);
    console.log(
      `memory per idle SSE connection at ${idle} connections (server process; per connection after GC):`,
    );
    const redisUsed = async (): Promise<number> =>
      Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);
    const redisBefore = await redisUsed();
    let redisPerConnection = Number.NaN;
    const memory = new Map<string, MemoryPerConnection>();
    for (const target of targets.slice(0, 3)) {
      const isGateway = target.server === servers.gateway;
      const measured = await memoryPerConnection(clients, target, idle, async () => {
        // Redis holds one consumer registration per gateway connection while it is open.
        if (isGateway) redisPerConnection = ((await redisUsed()) - redisBefore) / idle;
      });
      memory.set(isGateway ? 'gateway' : target.name, measured);
    }
    const base = memory.get('bare node:http')!;
    for (const [name, m] of memory) {
      console.log(
        `    ${name.padEnd(22)} rss ${kib(m.rss).padStart(9)}  heap ${kib(m.heap).padStart(9)}` +
          `  ${ratio(m.rss, base.rss)} (rss)  ${ratio(m.heap, base.heap)} (heap)` +
          `  in all: rss ${mib(m.totalRssAt1s)} at 1 s, ${mib(m.totalRssAsFound)} at ${IDLE_SETTLE_S} s (no forced GC), ` +
          `${mib(m.totalRss)} after GC; heap ${mib(m.totalHeap)}`,
      );
    }
    console.log(
      `    gateway, in Redis: ${kib(redisPerConnection)} per connection (its consumer registration)`,
    );

    if (!WITH_FLOOD) targets.pop();
    for (const count of WITH_THROUGHPUT ? CLIENT_COUNTS : []) {
      const events = Math.max(100, Math.round(DELIVERIES / count));
      const figures = new Map<string, Figures>(targets.map((t) => [t.name, { rate: [], p50: [], p99: [] }]));
      console.log(`\n${count} clients, ${events} events per burst (${count * events} deliveries):`);
      for (let round = 1; round <= ROUNDS; round++) {
        const line: string[] = [];
        for (const target of targets) {
          const result = await runTarget(clients, target, count, events);
          const f = figures.get(target.name)!;
          f.rate.push(result.rate);
          f.p50.push(result.p50);
          f.p99.push(result.p99);
          line.push(`${target.name} ${formatRate(result.rate)}`);
        }
        console.log(`  round ${round}: ${line.join(' | ')}`);
      }
      const baseline = median(figures.get(targets[0]!.name)!.rate);
      console.log('  median deliveries/s, ratio to bare; latency p50/p99 at a steady rate:');
      for (const target of targets) {
        const f = figures.get(target.name)!;
        const rate = median(f.rate);
        console.log(
          `    ${target.name.padEnd(22)} ${formatRate(rate).padStart(9)}  ${ratio(rate, baseline).padStart(6)}` +
            `   p50 ${median(f.p50).toFixed(2)} ms  p99 ${median(f.p99).toFixed(2)} ms`,
        );
      }
    }
  } finally {
    await clients.stop();
    await Promise.all(Object.values(servers).map((s) => s.stop()));
    redis.disconnect();
    await sim.close();
    await privateRedis?.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
