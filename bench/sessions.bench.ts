/**
 * Sessions at scale: N users' upstream sessions held by one worker (the real SessionPool), each
 * subscribed to one shared room, under a steady message load posted in the simulator (a child
 * process). Prints memory per session, Redis memory per user, the ratio of events logged per
 * second to events emitted upstream per second (1.00 = keeps up), and the lag from upstream
 * frame to log append (p50/p99). Then, as the floor in the same run, the bare fan-in
 * (support/bare-fan-in.ts): as many plain sockets receiving the same broadcasts, each event parsed
 * and logged with one minimal script; the gateway's CPU per event and lag are printed against it.
 *
 * Usage: node --expose-gc --import tsx bench/sessions.bench.ts [--users 1000] [--rate 5] [--seconds 10]
 * BENCH_IOREDIS_AUTOPIPELINE=1: the worker's connection with ioredis' auto-pipelining instead
 * of the gateway's coalesced writes (src/redis/coalesced-writes.ts), to compare.
 * BENCH_CPU_PROF=<file.cpuprofile>: a CPU profile of this process over the load phase only
 * (summarize with bench/support/profile-summary.ts); BENCH_HEAP_PROF=<file.heapprofile>: a
 * sampling profile of what the load phase allocates (open it in Chrome's DevTools).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { EventLog } from '../src/events/event-log.js';
import { parseTopics } from '../src/events/topics.js';
import { coalesceWrites } from '../src/redis/coalesced-writes.js';
import { createKeys } from '../src/redis/keys.js';
import { loadedLuaScripts } from '../src/redis/lua-script.js';
import { RocketChatRestClient } from '../src/rocketchat/rest-client.js';
import { ConsumerRegistry } from '../src/sessions/consumer-registry.js';
import { createCredentialStore } from '../src/sessions/credential-store.js';
import { SessionLeases } from '../src/sessions/lease.js';
import { SessionPool } from '../src/sessions/session-pool.js';
import { createTokenCipher } from '../src/sessions/token-cipher.js';
import { WorkerPresence } from '../src/sessions/worker-presence.js';
import { freePort, startPrivateRedis } from '../test/helpers/redis-server.js';
import { measureBareFanIn } from './support/bare-fan-in.js';
import { formatRate, percentile, ratio, startChild } from './support/stats.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const USERS = Number(args.get('users') ?? 1000);
const RATE = Number(args.get('rate') ?? 5);
const SECONDS = Number(args.get('seconds') ?? 10);

const gc = (globalThis as { gc?: () => void }).gc;
/** `PerformanceEntry.detail.kind` of a `gc` entry (perf_hooks.constants.NODE_PERFORMANCE_GC_*). */
const GC_KINDS: Readonly<Record<number, string>> = { 1: 'minor', 4: 'major', 8: 'incremental', 16: 'weakcb' };
function memory(): { heap: number; rss: number } {
  gc?.();
  gc?.();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss };
}

async function control<T>(simUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${simUrl}/sim${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Seconds of CPU Redis has used (user + system), from INFO. */
async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const read = (field: string): number => Number(new RegExp(`${field}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return read('used_cpu_user') + read('used_cpu_sys');
}

async function redisUsedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

async function main(): Promise<void> {
  const ownRedis = process.env.REDIS_URL ? undefined : await startPrivateRedis();
  const redisUrl = process.env.REDIS_URL ?? ownRedis!.url;
  const port = await freePort();
  const { child: simProcess, firstLine } = await startChild('sim/main.ts', [
    '--port',
    String(port),
    '--no-rate-limits',
    '--no-rest-rate-limit',
  ]);
  const simUrl = /http:\/\/[^\s,)]+/.exec(firstLine)![0].replace(/\/$/, '');
  console.log(
    `sessions: ${USERS} users, ${RATE} messages/s in one room for ${SECONDS} s (${RATE * USERS} events/s to log)`,
  );

  // As the gateway's "auto-pipelined" connections on a standalone Redis (createRedisClient):
  // each turn's commands in one write by corking the socket, not ioredis' auto-pipelines.
  const redis = process.env['BENCH_IOREDIS_AUTOPIPELINE']
    ? new Redis(redisUrl, { enableAutoPipelining: true })
    : coalesceWrites(new Redis(redisUrl));
  const keys = createKeys(`bench-${randomBytes(3).toString('hex')}`);
  const cipher = createTokenCipher({ currentKeyId: 'k1', keys: new Map([['k1', randomBytes(32)]]) });
  const credentials = createCredentialStore({ redis, keys, cipher });
  const consumers = new ConsumerRegistry({ redis, keys });
  const eventLog = new EventLog({ redis, keys, maxLength: 10_000, maxAgeMs: 3_600_000 });
  const redisBefore = await redisUsedMemory(redis);

  const usernames = Array.from({ length: USERS }, (_, i) => `bench${i}`);
  for (const username of usernames) await control(simUrl, 'POST', '/users', { username, password: 'pw' });
  const room = await control<{ _id: string }>(simUrl, 'POST', '/rooms', {
    name: `bench-${Date.now()}`,
    t: 'c',
    members: usernames,
  });
  const topics = parseTopics(`room:${room._id}`);
  const userIds: string[] = [];
  for (const username of usernames) {
    const { userId, authToken } = await control<{ userId: string; authToken: string }>(
      simUrl,
      'POST',
      `/users/${username}/tokens`,
    );
    userIds.push(userId);
    await credentials.save(userId, { token: authToken, username });
    await consumers.register(userId, 'bench', topics, 'durable');
  }

  const lags: number[] = [];
  let logged = 0;
  const before = memory();
  const pool = new SessionPool({
    redis,
    subscriber: new Redis(redisUrl),
    keys,
    leases: new SessionLeases({ redis, keys, workerId: 'bench-worker', ttlMs: 15_000 }),
    presence: new WorkerPresence({ redis, keys, workerId: 'bench-worker' }),
    consumers,
    credentials,
    eventLog,
    rest: new RocketChatRestClient({ baseUrl: simUrl }),
    ddpUrl: `${simUrl.replace(/^http/, 'ws')}/websocket`,
    maxSessions: USERS + 10,
    lingerMs: 10_000,
    idleMs: 600_000,
    onLogged: (_event, lagMs) => {
      logged++;
      lags.push(lagMs);
    },
  });
  const startedAt = performance.now();
  await pool.start();
  // Sessions are claimed by the pool's loop; wait until every one is live (subscribed, caught up).
  while (userIds.some((id) => pool.session(id)?.state !== 'live')) {
    await pool.reconcile();
    await new Promise((r) => setTimeout(r, 100));
  }
  const after = memory();
  console.log(`  ${USERS} sessions up in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);

  // Steady load: RATE messages per second, each delivered upstream to every member's session.
  // The scripts are in Redis's cache first, as in any Redis that has served a while: on a fresh
  // one the first message's 1,000 appends all came back NOSCRIPT and went again as EVAL with
  // the source, which made that one message the run's p99.
  for (const script of loadedLuaScripts()) await script.load(redis);
  lags.length = 0;
  logged = 0;
  const total = RATE * SECONDS;
  // Where the worker's time goes under the load, robust to a shared machine's noise (CPU time,
  // not wall time): its CPU and Redis's per event logged, its event loop's busy share, and the
  // garbage collector's pauses (which every frame and reply behind them wait out).
  const gcPauses: number[] = [];
  const gcKinds = new Map<string, number>();
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcPauses.push(entry.duration);
      const kind = GC_KINDS[(entry as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
      gcKinds.set(kind, (gcKinds.get(kind) ?? 0) + entry.duration);
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const profileFile = process.env['BENCH_CPU_PROF'];
  const heapProfileFile = process.env['BENCH_HEAP_PROF'];
  const profiler = profileFile || heapProfileFile ? new Session() : undefined;
  profiler?.connect();
  if (profiler && profileFile) {
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  if (profiler && heapProfileFile)
    await profiler.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  const cpuBefore = process.cpuUsage();
  const redisCpuBefore = await redisCpuSeconds(redis);
  const loopBefore = performance.eventLoopUtilization();
  const loadStart = performance.now();
  for (let i = 0; i < total; i++) {
    const due = loadStart + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await control(simUrl, 'POST', '/messages', {
      username: usernames[i % USERS],
      rid: room._id,
      msg: `load ${i}`,
    });
  }
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const emitted = total * USERS;
  const loggedDuringLoad = logged;
  const deadline = Date.now() + 60_000;
  while (logged < emitted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const cpu = process.cpuUsage(cpuBefore);
  const redisCpu = (await redisCpuSeconds(redis)) - redisCpuBefore;
  const loop = performance.eventLoopUtilization(loopBefore);
  gcObserver.disconnect();
  if (profiler && profileFile) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(profileFile, JSON.stringify(profile));
  }
  if (profiler && heapProfileFile) {
    const { profile } = await profiler.post('HeapProfiler.stopSampling');
    writeFileSync(heapProfileFile, JSON.stringify(profile));
  }
  profiler?.disconnect();
  const redisAfter = await redisUsedMemory(redis);

  const perSessionKiB = (after.heap - before.heap) / USERS / 1024;
  const perSessionRssKiB = (after.rss - before.rss) / USERS / 1024;
  console.log(
    `  memory per session: heap ${perSessionKiB.toFixed(1)} KiB, rss ${perSessionRssKiB.toFixed(1)} KiB`,
  );
  console.log(
    `  redis memory per user: ${((redisAfter - redisBefore) / USERS / 1024).toFixed(1)} KiB (credential, consumer, lease, dedupe set and ${total} logged events each)`,
  );
  console.log(
    `  emitted ${formatRate(emitted / loadSeconds)} upstream, logged ${formatRate(loggedDuringLoad / loadSeconds)} during the load: ratio ${(loggedDuringLoad / emitted).toFixed(2)}x; all ${logged}/${emitted} logged after`,
  );
  const reconnects = userIds.reduce((sum, id) => sum + (pool.session(id)?.client.stats.reconnects ?? 0), 0);
  const states = new Map<string, number>();
  for (const id of userIds) {
    const state = pool.session(id)?.state ?? 'none';
    states.set(state, (states.get(state) ?? 0) + 1);
  }
  console.log(
    `  upstream reconnects during the run: ${reconnects}; session states: ${[...states].map(([k, v]) => `${k} ${v}`).join(', ')}`,
  );
  console.log(
    `  lag upstream frame -> log append: p50 ${percentile(lags, 50).toFixed(1)} ms, p90 ${percentile(lags, 90).toFixed(1)} ms, p99 ${percentile(lags, 99).toFixed(1)} ms, max ${percentile(lags, 100).toFixed(1)} ms`,
  );
  const perEvent = (seconds: number): string => `${((seconds * 1e6) / Math.max(1, logged)).toFixed(1)} µs`;
  const gcTotal = gcPauses.reduce((sum, ms) => sum + ms, 0);
  console.log(
    `  per event logged: worker CPU ${perEvent((cpu.user + cpu.system) / 1e6)}, Redis CPU ${perEvent(redisCpu)}; ` +
      `worker event loop busy ${(loop.utilization * 100).toFixed(0)} %; GC ${gcPauses.length} pauses, ` +
      `${gcTotal.toFixed(0)} ms in all (${[...gcKinds].map(([k, ms]) => `${k} ${ms.toFixed(0)}`).join(', ')}), ` +
      `longest ${Math.max(0, ...gcPauses).toFixed(1)} ms`,
  );

  await pool.close();
  const leftovers = await redis.keys(`${keys.prefix}:*`);
  for (let i = 0; i < leftovers.length; i += 500) await redis.del(...leftovers.slice(i, i + 500));
  await redis.quit();
  simProcess.kill('SIGTERM');

  // The floor, on the same machine and Redis right after: what any worker pays per event.
  const bare = await measureBareFanIn({ redisUrl, users: USERS, rate: RATE, seconds: SECONDS });
  const gatewayCpuPerEvent = (cpu.user + cpu.system) / Math.max(1, logged);
  console.log(
    `  bare fan-in (${bare.logged}/${bare.expected} logged): CPU per event ${bare.cpuUsecPerEvent.toFixed(1)} µs, ` +
      `lag p50 ${percentile(bare.lagsMs, 50).toFixed(1)} ms, p99 ${percentile(bare.lagsMs, 99).toFixed(1)} ms`,
  );
  console.log(
    `  gateway / bare: CPU per event ${ratio(gatewayCpuPerEvent, bare.cpuUsecPerEvent)}, ` +
      `p99 lag ${ratio(percentile(lags, 99), percentile(bare.lagsMs, 99))}`,
  );
  await ownRedis?.close();
  process.exit(0);
}

void main();
