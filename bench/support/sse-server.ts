/**
 * One SSE server of bench/sse-fanout.bench.ts, in its own process so that its CPU and memory are
 * its own. Controlled over IPC (see `ServerCommand`); prints nothing on stdout.
 *
 * - `bare`: node:http, `res.write` of one pre-serialized frame string per event to every client
 *   (the baseline: what the fan-out costs with nothing else around it).
 * - `better-sse`: the better-sse library, one `Channel` that every session registers with,
 *   `channel.broadcast(envelope, type, { eventId })`, its default JSON serializer.
 * - `gateway`: the real gateway (`startGateway`, role `all`, Prometheus metrics on) against the
 *   bench's Redis and the simulator. Its events come from the event log (appended by the bench
 *   process) or from Rocket.Chat (the simulator's flood), not from here.
 *
 * Usage: node --expose-gc --import tsx bench/support/sse-server.ts <bare|better-sse|gateway>
 *        [redisUrl rocketchatUrl keyPrefix]
 *    or, compiled (bench/support/built-harness.ts): node --expose-gc dist/bench/support/sse-server.js ...
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep, setImmediate as yieldToIo } from 'node:timers/promises';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { createChannel, createSession } from 'better-sse';
import { loadConfig } from '../../src/config/index.js';
import { startGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/log/index.js';
import { createMetrics } from '../../src/metrics/index.js';
import { freePort } from '../../test/helpers/redis-server.js';
import {
  type BenchEnvelope,
  benchEnvelope,
  monotonicNow,
  type ServerCommand,
  type ServerReply,
} from './sse-protocol.js';

const kind = process.argv[2];
const send = (reply: ServerReply): void => {
  process.send?.(reply);
};
const gc = (globalThis as { gc?: () => void }).gc;
let snapshotSeq = 0;

interface Broadcaster {
  readonly port: number;
  connections(): number;
  /** Sends `count` events, `ratePerSecond` apart (as fast as the loop allows when 0). */
  broadcast?(count: number, ratePerSecond: number): Promise<void>;
}

/**
 * A burst (`ratePerSecond` 0) goes out `BURST_BATCH` events per turn of the event loop: writes
 * made in one turn leave in one `writev` per socket, as the gateway's do when one Redis read
 * brings it many events; one event per turn would cost the baseline a syscall per delivery and
 * flatter the gateway. At a rate, each event goes out alone when due.
 */
const BURST_BATCH = 100;

async function paced(count: number, ratePerSecond: number, sendOne: (i: number) => void): Promise<void> {
  const started = performance.now();
  for (let i = 1; i <= count; i++) {
    if (ratePerSecond > 0) {
      const wait = started + ((i - 1) * 1000) / ratePerSecond - performance.now();
      if (wait > 0) await sleep(wait);
    }
    sendOne(i);
    if (ratePerSecond > 0 || i % BURST_BATCH === 0) await yieldToIo();
  }
}

function sseHeaders(res: ServerResponse): void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
  });
}

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  const server = createServer(handler);
  server.requestTimeout = 0;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

let seq = 0;
function nextEnvelope(): BenchEnvelope {
  return benchEnvelope(`${Date.now()}-${seq++}`, `bench ${seq}`, monotonicNow());
}

async function startBare(): Promise<Broadcaster> {
  const clients = new Set<ServerResponse>();
  const port = await listen((req, res) => {
    sseHeaders(res);
    res.write('retry: 2000\n\n');
    req.socket.setNoDelay(true);
    clients.add(res);
    res.once('close', () => clients.delete(res));
  });
  return {
    port,
    connections: () => clients.size,
    broadcast: (count, rate) =>
      paced(count, rate, () => {
        const envelope = nextEnvelope();
        // Serialized once per event, whatever the number of clients (as the gateway's eventFrame).
        const frame = `id: ${envelope.id}\nevent: ${envelope.type}\ndata: ${JSON.stringify(envelope)}\n\n`;
        for (const res of clients) res.write(frame);
      }),
  };
}

async function startBetterSse(): Promise<Broadcaster> {
  const channel = createChannel();
  const port = await listen((req, res) => {
    void createSession(req, res, { retry: 2000 }).then((session) => channel.register(session));
  });
  return {
    port,
    connections: () => channel.sessionCount,
    broadcast: (count, rate) =>
      paced(count, rate, () => {
        const envelope = nextEnvelope();
        channel.broadcast(envelope, envelope.type, { eventId: envelope.id });
      }),
  };
}

async function startGatewayServer(
  redisUrl: string,
  rocketchatUrl: string,
  prefix: string,
): Promise<Broadcaster> {
  const config = loadConfig({
    NODE_ENV: 'production',
    REDIS_URL: redisUrl,
    ROCKETCHAT_URL: rocketchatUrl,
    REDIS_KEY_PREFIX: prefix,
    GATEWAY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    JWT_SECRET: randomBytes(32).toString('hex'),
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    GATEWAY_ROLE: 'all',
    LOG_LEVEL: 'warn',
    // One user opens every connection of the bench: the per-user REST limit would refuse them.
    RATE_LIMIT_PER_MINUTE: '1000000',
    SSE_MAX_STREAMS_PER_USER: '100000',
    // The bare server buffers without bound; the gateway may not drop a client a burst outran.
    SSE_MAX_BUFFER_BYTES: String(256 * 1024 * 1024),
    // A heartbeat has no business in a 60 s run: keep the comparison about events.
    SSE_HEARTBEAT_MS: '600000',
  });
  const metrics = createMetrics({ defaultLabels: { role: 'all' } });
  const gateway = await startGateway({
    config,
    logger: createLogger({ level: 'warn' }),
    metrics,
    metricsRegistry: metrics.registry,
  });
  const connections = async (): Promise<number> => {
    const gauge = await metrics.registry.getSingleMetric('gateway_sse_connections')?.get();
    return gauge?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
  };
  let last = 0;
  const refresh = (): void => {
    void connections().then((n) => {
      last = n;
    });
  };
  const timer = setInterval(refresh, 20);
  timer.unref();
  return { port: gateway.port, connections: () => last };
}

async function main(): Promise<void> {
  let broadcaster: Broadcaster;
  if (kind === 'bare') broadcaster = await startBare();
  else if (kind === 'better-sse') broadcaster = await startBetterSse();
  else if (kind === 'gateway') {
    const [redisUrl, rocketchatUrl, prefix] = process.argv.slice(3);
    if (!redisUrl || !rocketchatUrl || !prefix)
      throw new Error('gateway needs redisUrl rocketchatUrl keyPrefix');
    broadcaster = await startGatewayServer(redisUrl, rocketchatUrl, prefix);
  } else {
    throw new Error(`unknown server kind ${kind}`);
  }
  process.on('message', (command: ServerCommand) => {
    void (async () => {
      if (command.op === 'connections') {
        send({ op: 'connections', count: broadcaster.connections() });
      } else if (command.op === 'rss') {
        send({ op: 'rss', rss: process.memoryUsage.rss() });
      } else if (command.op === 'memory') {
        // The RSS as the process has it, before the collections below (which the product never
        // forces): the figure an operator's dashboard shows.
        const rssAsFound = process.memoryUsage.rss();
        gc?.();
        gc?.();
        // BENCH_GC_LAST_RESORT=1: V8's last-resort collection (several full ones, compacting to
        // reduce the footprint, as its memory reducer does in a process that went idle).
        if (process.env['BENCH_GC_LAST_RESORT'])
          (gc as unknown as (options: object) => void)?.({
            type: 'major',
            execution: 'sync',
            flavor: 'last-resort',
          });
        // BENCH_HEAP_SNAPSHOTS=<dir>: a snapshot at each reading (compare with heap-tally.ts).
        const snapshots = process.env['BENCH_HEAP_SNAPSHOTS'];
        if (snapshots) writeHeapSnapshot(`${snapshots}/${kind}-${++snapshotSeq}.heapsnapshot`);
        const usage = process.memoryUsage();
        // BENCH_MEM_DETAIL=1: where the RSS is (heap committed per space, external) on stderr.
        if (process.env['BENCH_MEM_DETAIL']) {
          const spaces = getHeapSpaceStatistics()
            .map(
              (s) =>
                `${s.space_name} ${(s.space_size / 1048576).toFixed(0)}/${(s.space_used_size / 1048576).toFixed(0)}`,
            )
            .join(', ');
          const mb = (n: number): string => `${(n / 1048576).toFixed(0)} MiB`;
          console.error(
            `[${kind}] rss ${mb(usage.rss)} heapTotal ${mb(usage.heapTotal)} heapUsed ${mb(usage.heapUsed)} ` +
              `external ${mb(usage.external)} arrayBuffers ${mb(usage.arrayBuffers)}; spaces (MiB committed/used): ${spaces}`,
          );
        }
        send({
          op: 'memory',
          rss: usage.rss,
          rssAsFound,
          heapUsed: usage.heapUsed,
          external: usage.external,
        });
      } else if (command.op === 'broadcast') {
        if (!broadcaster.broadcast) throw new Error(`${kind} takes its events from elsewhere`);
        await broadcaster.broadcast(command.count, command.ratePerSecond);
        send({ op: 'broadcasted' });
      }
    })();
  });
  process.on('disconnect', () => process.exit(0));
  send({ op: 'ready', port: broadcaster.port });
}

void main();
