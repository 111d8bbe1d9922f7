/**
 * Webhook delivery throughput and latency, against a bare baseline in the same run.
 *
 * - baseline: a bare BullMQ queue and worker; the processor POSTs the same JSON body with undici
 *   `request` (keep-alive) to the same local receiver. Nothing else.
 * - gateway: the whole path: `EventLog.append` -> live notice -> dispatcher (cursor, topic match,
 *   `addBulk`) -> BullMQ -> delivery processor (credential gate, per-endpoint semaphore, record
 *   read, secret opening, Standard Webhooks signing, SSRF-guarded agent, attempt ledger) -> POST.
 *
 * Both run with the same worker concurrency, against one keep-alive receiver that answers 204,
 * in one process (producer, worker and receiver share the CPU alike). Latency is from the
 * producer's call (`append` or `queue.add`) to the receiver's hit. Rounds alternate between the
 * two; the median round of each is reported, and the ratio gateway / baseline of deliveries/s.
 *
 *   npx tsx bench/webhooks.bench.ts            (BENCH_EVENTS=4000 BENCH_ROUNDS=3 BENCH_CONCURRENCY=16)
 *
 * BENCH_SIDE=gateway: the gateway alone (no baseline rounds): its burst rounds and a paced round
 * at BENCH_PACED_RATE (default 1000/s), each round's figures printed. With
 * BENCH_CPU_PROF=<file.cpuprofile> (implies it), under a CPU profile of this process (summarise
 * with bench/support/profile-summary.ts).
 *
 * Uses REDIS_URL when set, else starts a private redis-server.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { loadConfig } from '../src/config/index.js';
import { EventLog } from '../src/events/event-log.js';
import { LiveHub } from '../src/events/live-hub.js';
import { duplicateClient } from '../src/redis/connection.js';
import { createKeys } from '../src/redis/keys.js';
import { ConsumerRegistry } from '../src/sessions/consumer-registry.js';
import { createCredentialStore } from '../src/sessions/credential-store.js';
import { createTokenCipher } from '../src/sessions/token-cipher.js';
import { createWebhookService, startWebhookWorkers } from '../src/webhooks/index.js';
import { startPrivateRedis } from '../test/helpers/redis-server.js';
import { webhookConnections } from '../test/helpers/webhook-connections.js';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 4000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 16);
/** Producer calls in flight at once (appends or adds). */
const PRODUCER_WINDOW = 64;
const PROFILE_FILE = process.env['BENCH_CPU_PROF'];
const IS_GATEWAY_ONLY = PROFILE_FILE !== undefined || process.env['BENCH_SIDE'] === 'gateway';

interface RoundResult {
  readonly perSecond: number;
  readonly latenciesMs: number[];
  /** Redis commands and Redis CPU (µs, INFO commandstats) per delivery during the round. */
  readonly redisCallsPer: number;
  readonly redisUsecPer: number;
  /** This process's CPU (user + system, µs) per delivery: producer, worker and receiver alike. */
  readonly nodeUsecPer: number;
  /** Young-generation collections during the round, their summed pause (ms), and full ones. */
  readonly scavenges: number;
  readonly scavengeMs: number;
  readonly fullGcs: number;
}

interface RedisTotals {
  readonly calls: number;
  readonly usec: number;
  /** process.cpuUsage() at the same moment. */
  readonly nodeUsec: number;
  /** The GC tally (below) at the same moment. */
  readonly gc: GcTally;
}

interface GcTally {
  scavenges: number;
  scavengeMs: number;
  fullGcs: number;
}

/**
 * Collections in this process so far: the paced tail is young-generation pauses (bench/RESULTS.md,
 * issue 18), so each round reports how many there were and how long they held the loop.
 */
const gcTally: GcTally = { scavenges: 0, scavengeMs: 0, fullGcs: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
    if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) {
      gcTally.scavenges++;
      gcTally.scavengeMs += entry.duration;
    } else if (kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) gcTally.fullGcs++;
  }
}).observe({ entryTypes: ['gc'] });

/** Total calls and µs over every command, from INFO commandstats. */
async function redisCommandTotals(redis: Redis): Promise<RedisTotals> {
  let calls = 0;
  let usec = 0;
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const match = /^cmdstat_[^:]+:calls=(\d+),usec=(\d+)/.exec(line);
    if (match) {
      calls += Number(match[1]);
      usec += Number(match[2]);
    }
  }
  const cpu = process.cpuUsage();
  return { calls, usec, nodeUsec: cpu.user + cpu.system, gc: { ...gcTally } };
}

/** A keep-alive receiver that notes when each `webhook-id` arrived. */
async function startReceiver(): Promise<{ url: string; hits: Map<string, number>; close(): Promise<void> }> {
  const hits = new Map<string, number>();
  let waiter: (() => void) | undefined;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits.set(String(req.headers['webhook-id']), performance.now());
      res.writeHead(204).end();
      waiter?.();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Calls `produce(i)` for i in [0, n) with at most PRODUCER_WINDOW in flight; notes each call's start. */
async function produceAll(n: number, produce: (i: number) => Promise<string>, started: Map<string, number>) {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const t = performance.now();
      const id = await produce(i);
      started.set(id, t);
    }
  };
  await Promise.all(Array.from({ length: PRODUCER_WINDOW }, lane));
}

/** Calls `produce(i)` at `perSecond`, one at a time on a fixed schedule; notes each call's start. */
async function producePaced(
  n: number,
  perSecond: number,
  produce: (i: number) => Promise<string>,
  started: Map<string, number>,
): Promise<void> {
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const t = performance.now();
    pending.push(produce(i).then((id) => void started.set(id, t)));
  }
  await Promise.all(pending);
}

async function waitForAll(
  ids: Iterable<string>,
  hits: Map<string, number>,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const id of ids) {
    while (!hits.has(id)) {
      if (Date.now() > deadline) throw new Error(`delivery of ${id} timed out`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}

function summarize(
  startedAt: number,
  started: Map<string, number>,
  hits: Map<string, number>,
  before: RedisTotals,
  after: RedisTotals,
): RoundResult {
  let last = 0;
  const latenciesMs: number[] = [];
  for (const [id, t] of started) {
    const hit = hits.get(id)!;
    last = Math.max(last, hit);
    latenciesMs.push(hit - t);
  }
  return {
    perSecond: (started.size / (last - startedAt)) * 1000,
    latenciesMs: latenciesMs.sort((a, b) => a - b),
    redisCallsPer: (after.calls - before.calls) / started.size,
    redisUsecPer: (after.usec - before.usec) / started.size,
    nodeUsecPer: (after.nodeUsec - before.nodeUsec) / started.size,
    scavenges: after.gc.scavenges - before.gc.scavenges,
    scavengeMs: after.gc.scavengeMs - before.gc.scavengeMs,
    fullGcs: after.gc.fullGcs - before.gc.fullGcs,
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function median(rounds: readonly RoundResult[]): RoundResult {
  return [...rounds].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(rounds.length / 2)]!;
}

/** The gateway's rounds alone, under the CPU profiler when asked (see the header); prints what each cost. */
async function gatewayAlone(
  runGateway: (n: number, paced?: number) => Promise<RoundResult>,
  profileFile: string | undefined,
): Promise<void> {
  await runGateway(500);
  const session = profileFile ? new Session() : undefined;
  session?.connect();
  await session?.post('Profiler.enable');
  await session?.post('Profiler.start');
  const line = (label: string, r: RoundResult) =>
    console.log(
      `${label}: ${r.perSecond.toFixed(0)}/s, ${r.nodeUsecPer.toFixed(0)} µs Node + ${r.redisUsecPer.toFixed(0)} µs Redis ` +
        `(${r.redisCallsPer.toFixed(1)} commands), p50 ${percentile(r.latenciesMs, 50).toFixed(1)} / p99 ${percentile(r.latenciesMs, 99).toFixed(1)} ms, ` +
        `${r.scavenges} scavenges (${r.scavengeMs.toFixed(0)} ms), ${r.fullGcs} full GCs`,
    );
  for (let round = 0; round < ROUNDS; round++) line(`burst ${round + 1}`, await runGateway(EVENTS));
  const rate = Number(process.env['BENCH_PACED_RATE'] ?? 1000);
  line(`paced at ${rate}/s`, await runGateway(Math.min(EVENTS, rate * 5), rate));
  if (session && profileFile) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(profileFile, JSON.stringify(profile));
    session.disconnect();
  }
}

async function main(): Promise<void> {
  const privateRedis = process.env['REDIS_URL'] ? undefined : await startPrivateRedis();
  const redisUrl = process.env['REDIS_URL'] ?? privateRedis!.url;
  const prefix = `bench${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: prefix,
    GATEWAY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_CONCURRENCY_PER_ENDPOINT: String(CONCURRENCY),
    LOG_LEVEL: 'silent',
  });
  const redis = new Redis(redisUrl);
  const keys = createKeys(prefix);
  const receiver = await startReceiver();

  // --- baseline: bare BullMQ + undici request (the job carries the body) -------------------------------------------------
  const baseQueue = new Queue('bench-baseline', { connection: redis, prefix: config.redis.queuePrefix });
  const agent = new Agent({ keepAliveTimeout: 60_000 });
  const baseConnection = redis.duplicate({ maxRetriesPerRequest: null });
  const baseWorker = new Worker(
    'bench-baseline',
    async (job) => {
      const res = await request(receiver.url, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', 'webhook-id': String(job.data.id) },
        body: job.data.body,
      });
      await res.body.dump();
      if (res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}`);
    },
    {
      connection: baseConnection,
      prefix: config.redis.queuePrefix,
      concurrency: CONCURRENCY,
      removeOnComplete: { age: 3600, count: 100_000 },
    },
  );
  await baseWorker.waitUntilReady();
  let baseSeq = 0;
  const runBaseline = async (n: number, paced?: number): Promise<RoundResult> => {
    const started = new Map<string, number>();
    const redisBefore = await redisCommandTotals(redis);
    const t0 = performance.now();
    await (paced
      ? (m: number, f: (i: number) => Promise<string>, s: Map<string, number>) => producePaced(m, paced, f, s)
      : produceAll)(
      n,
      async (i) => {
        const id = `b${baseSeq++}`;
        // The job carries what it posts, as any webhook job would: the same envelope shape and
        // size as the gateway's.
        const body = JSON.stringify({
          id,
          type: 'notification',
          userId: 'ubench',
          ts: new Date().toISOString(),
          data: { text: 'x'.repeat(300), i },
        });
        await baseQueue.add(
          'post',
          { id, body },
          { jobId: id, attempts: 8, removeOnComplete: { age: 3600, count: 100_000 } },
        );
        return id;
      },
      started,
    );
    await waitForAll(started.keys(), receiver.hits);
    // Settle: the last jobs' completion bookkeeping lands just after their hit.
    await new Promise((r) => setTimeout(r, 200));
    return summarize(t0, started, receiver.hits, redisBefore, await redisCommandTotals(redis));
  };

  // --- gateway: event log -> dispatcher -> delivery processor ----------------------------------
  const cipher = createTokenCipher({
    currentKeyId: config.encryption.current.id,
    keys: new Map([[config.encryption.current.id, config.encryption.current.key]]),
  });
  // The log on a connection of its own that coalesces each turn's writes, as the gateway's
  // (`createRedis(..., 'event-log', { isAutoPipelined: true })` in src/gateway.ts): appending on
  // the bench's plain connection paid a socket write per event that the gateway does not.
  const logRedis = duplicateClient(redis, { enableAutoPipelining: true });
  const eventLog = new EventLog({ redis: logRedis, keys, maxLength: 1_000_000, maxAgeMs: 86_400_000 });
  const liveHub = new LiveHub({ subscriber: redis.duplicate(), keys });
  const credentials = createCredentialStore({ redis, keys, cipher });
  const consumers = new ConsumerRegistry({ redis, keys });
  const service = createWebhookService({ redis, keys, config, consumers, cipher });
  const userId = 'ubench';
  await credentials.save(userId, { token: randomBytes(32).toString('base64url') });
  await service.create(userId, {
    url: receiver.url,
    topics: [{ kind: 'user' }],
    eventTypes: [],
    description: 'bench',
  });
  const gateway = await startWebhookWorkers({
    redis,
    connections: webhookConnections(redis, config),
    keys,
    config,
    eventLog,
    liveHub,
    credentials,
    cipher,
    consumers,
    options: { concurrency: CONCURRENCY, queueMetricsIntervalMs: 0 },
  });
  const runGateway = async (n: number, paced?: number): Promise<RoundResult> => {
    const started = new Map<string, number>();
    const redisBefore = await redisCommandTotals(redis);
    const t0 = performance.now();
    await (paced
      ? (m: number, f: (i: number) => Promise<string>, s: Map<string, number>) => producePaced(m, paced, f, s)
      : produceAll)(
      n,
      async (i) => {
        const logged = await eventLog.append({
          type: 'notification',
          userId,
          ts: new Date().toISOString(),
          data: { text: 'x'.repeat(300), i },
        });
        return logged!.id;
      },
      started,
    );
    await waitForAll(started.keys(), receiver.hits);
    // Settle: the last jobs' completion bookkeeping lands just after their hit.
    await new Promise((r) => setTimeout(r, 200));
    return summarize(t0, started, receiver.hits, redisBefore, await redisCommandTotals(redis));
  };

  const shutdown = async (): Promise<void> => {
    await gateway.close();
    await baseWorker.close();
    await baseConnection.quit();
    await baseQueue.close();
    await service.close();
    await liveHub.close();
    await agent.close();
    await receiver.close();
    await logRedis.quit();
    await redis.quit();
    await privateRedis?.close();
  };
  if (IS_GATEWAY_ONLY) {
    await gatewayAlone(runGateway, PROFILE_FILE);
    await shutdown();
    return;
  }

  // Warm-up (JIT, connections, scripts), then alternating measured rounds.
  await runBaseline(500);
  await runGateway(500);
  const base: RoundResult[] = [];
  const gw: RoundResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    base.push(await runBaseline(EVENTS));
    gw.push(await runGateway(EVENTS));
  }
  const b = median(base);
  const g = median(gw);
  // Latency under a load both sustain (a third of the slower side's rate): what an event waits
  // for when the queue is not backed up. The burst rounds' latencies mostly measure the backlog.
  // A third of the baseline's rate alone, on a fast baseline round, came near the gateway's whole
  // capacity, and its "paced" latency was then a backlog too.
  const rate = Math.max(20, Math.round(Math.min(b.perSecond, g.perSecond) / 3));
  const pacedN = Math.min(EVENTS, rate * 5);
  const bl = await runBaseline(pacedN, rate);
  const gl = await runGateway(pacedN, rate);

  const ms = (r: RoundResult, p: number) => percentile(r.latenciesMs, p).toFixed(1).padStart(7);
  console.log(
    `webhooks bench: worker concurrency ${CONCURRENCY}, 1 keep-alive receiver (204), node ${process.version}, ` +
      `${cpus().length} CPUs (${cpus()[0]?.model.trim()})`,
  );
  console.log(
    `throughput: ${EVENTS} events produced as fast as possible, ${ROUNDS} alternating rounds, median round`,
  );
  console.log(
    `  baseline ${b.perSecond.toFixed(0).padStart(6)} deliveries/s   (bare BullMQ worker + undici request)`,
  );
  console.log(
    `  gateway  ${g.perSecond.toFixed(0).padStart(6)} deliveries/s   (log -> dispatcher -> BullMQ -> signed, guarded POST)`,
  );
  console.log(
    `  rounds: baseline ${base.map((r) => r.perSecond.toFixed(0)).join(' ')}; gateway ${gw.map((r) => r.perSecond.toFixed(0)).join(' ')}`,
  );
  // CPU per delivery is what a saturated machine divides its cores by; it moves far less than
  // wall-clock throughput when other processes share the machine.
  const cpuLine = (r: RoundResult) =>
    `${r.nodeUsecPer.toFixed(0)} µs Node + ${r.redisUsecPer.toFixed(0)} µs Redis (${r.redisCallsPer.toFixed(1)} commands)`;
  const cpuOf = (r: RoundResult) => r.nodeUsecPer + r.redisUsecPer;
  console.log(`  CPU per delivery: baseline ${cpuLine(b)}; gateway ${cpuLine(g)}`);
  console.log(`  CPU ratio: ${(cpuOf(b) / cpuOf(g)).toFixed(2)}x (baseline CPU / gateway CPU per delivery)`);
  console.log(`latency, event logged (or job added) -> receiver hit, ${pacedN} events paced at ${rate}/s:`);
  console.log(`  baseline p50 ${ms(bl, 50)} ms   p99 ${ms(bl, 99)} ms`);
  console.log(`  gateway  p50 ${ms(gl, 50)} ms   p99 ${ms(gl, 99)} ms`);
  console.log(
    `  (burst rounds, backlog included: baseline p50 ${ms(b, 50)} / p99 ${ms(b, 99)} ms; gateway p50 ${ms(g, 50)} / p99 ${ms(g, 99)} ms)`,
  );
  console.log(
    `ratio: ${(g.perSecond / b.perSecond).toFixed(2)}x deliveries/s (gateway / baseline; aim 0.80x)`,
  );

  await shutdown();
}

await main();
