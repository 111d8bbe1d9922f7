/**
 * Outbound sending: messages per second accepted (`POST /v1/messages` -> 202) and sent to the
 * simulator, as a ratio against calling `sendMessage` directly on one DDP connection with the
 * same window (`--window`, the gateway's OUTBOUND_CONCURRENCY: calls in flight on the user's
 * connection), in the same run; p50/p99 from the request to the message reaching a subscriber
 * (bob's `stream-room-messages`, i.e. stored upstream). The HTTP client keeps `--requests`
 * posts in flight.
 *
 * Paced: posts at a steady `--rate` per second (50 and 200) to one lane; p50/p99 from the 202
 * to the message stored upstream.
 *
 * Two gateway shapes: one lane (one user, one room: strictly ordered, one send at a time) and
 * eight lanes (one user, eight rooms: ordered per room). The baseline sends to the same rooms.
 * The simulator and the gateway (api + worker, bench/support/outbound-gateway.ts) each run in
 * their own process, as deployed; this process is the load (HTTP client, baseline DDP client)
 * and the observer. No rate limits upstream; Redis is a private one unless REDIS_URL is set.
 * Rounds alternate baseline and gateway; medians count.
 *
 * Also, without a backlog: one message at a time through the gateway (the next request once the
 * previous message is stored: the latency of the whole path) against one `sendMessage` at a time.
 *
 * Usage: tsx bench/outbound.bench.ts [--messages 2000] [--rounds 3] [--window 16]
 *        [--requests 64] [--paced-seconds 5] [--profile-gateway <dir>]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { newMessageId } from '../src/outbound/message-id.js';
import { RocketChatRestClient } from '../src/rocketchat/rest-client.js';
import { freePort, startPrivateRedis } from '../test/helpers/redis-server.js';
import { ddpLogin, RoomObserver } from './support/room-observer.js';
import { formatRate, median, percentile, ROOT, ratio, startChild } from './support/stats.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const MESSAGES = Number(args.get('messages') ?? 2000);
const ROUNDS = Number(args.get('rounds') ?? 3);
const WINDOW = Number(args.get('window') ?? 16);
const REQUESTS = Number(args.get('requests') ?? 64);
const PACED_SECONDS = Number(args.get('paced-seconds') ?? 5);

interface RunResult {
  /** Messages per second from the first request to the last message seen upstream. */
  readonly sentPerSecond: number;
  /** Requests per second answered (202 for the gateway, result for the baseline). */
  readonly acceptedPerSecond: number;
  readonly latenciesMs: number[];
}

/** Runs `send(i)` for i in [0, n) with at most `window` in flight. */
async function windowed(n: number, window: number, send: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(window, n) }, async () => {
    while (next < n) await send(next++);
  });
  await Promise.all(lanes);
}

async function measure(
  rooms: readonly string[],
  observer: RoomObserver,
  tag: string,
  send: (room: string, text: string) => Promise<void>,
  window = WINDOW,
  count = MESSAGES,
): Promise<RunResult> {
  const startedAt = new Map<string, number>();
  let lastAnswer = 0;
  const t0 = performance.now();
  await windowed(count, window, async (i) => {
    const text = `${tag} ${i}`;
    startedAt.set(text, performance.now());
    await send(rooms[i % rooms.length]!, text);
    lastAnswer = performance.now();
  });
  await Promise.all([...startedAt.keys()].map((text) => observer.waitFor(text)));
  const latenciesMs = [...startedAt].map(([text, at]) => observer.seen.get(text)! - at);
  const lastSeen = Math.max(...[...startedAt.keys()].map((text) => observer.seen.get(text)!));
  return {
    sentPerSecond: count / ((lastSeen - t0) / 1000),
    acceptedPerSecond: count / ((lastAnswer - t0) / 1000),
    latenciesMs,
  };
}

/** Posts at `rate` per second for `seconds`; latency from each 202 to the message stored upstream. */
async function paced(
  post: (text: string) => Promise<void>,
  observer: RoomObserver,
  tag: string,
  rate: number,
  seconds: number,
): Promise<number[]> {
  const count = Math.round(rate * seconds);
  const answeredAt = new Map<string, number>();
  const t0 = performance.now();
  const posts: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const text = `${tag} ${i}`;
    posts.push(post(text).then(() => void answeredAt.set(text, performance.now())));
  }
  await Promise.all(posts);
  await Promise.all([...answeredAt.keys()].map((text) => observer.waitFor(text)));
  return [...answeredAt].map(([text, at]) => Math.max(0, observer.seen.get(text)! - at));
}

function line(name: string, results: readonly RunResult[], baseline?: number): string {
  const sent = median(results.map((r) => r.sentPerSecond));
  const accepted = median(results.map((r) => r.acceptedPerSecond));
  const latencies = results.flatMap((r) => r.latenciesMs);
  const vs = baseline === undefined ? 'baseline' : ratio(sent, baseline);
  return `${name.padEnd(34)} sent ${formatRate(sent).padStart(8)}  accepted ${formatRate(accepted).padStart(8)}  p50 ${percentile(latencies, 50).toFixed(1).padStart(7)} ms  p99 ${percentile(latencies, 99).toFixed(1).padStart(7)} ms  ${vs}`;
}

/** The gateway process; `--profile-gateway <dir>` writes its CPU profile there. */
async function startGateway(
  redisUrl: string,
  simUrl: string,
): Promise<{ child: ChildProcess; firstLine: string }> {
  const profileDir = args.get('profile-gateway');
  const child = spawn(
    process.execPath,
    [
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      '--import',
      'tsx',
      'bench/support/outbound-gateway.ts',
      redisUrl,
      simUrl,
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, OUTBOUND_CONCURRENCY: String(WINDOW) },
    },
  );
  const firstLine = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      if (buffer.includes('\n')) resolve(buffer.slice(0, buffer.indexOf('\n')));
    });
    child.once('exit', (code) => reject(new Error(`the gateway exited with ${code} before it was ready`)));
  });
  return { child, firstLine };
}

async function main(): Promise<void> {
  const privateRedis = process.env.REDIS_URL ? undefined : await startPrivateRedis();
  const redisUrl = process.env.REDIS_URL ?? privateRedis!.url;
  const simPort = await freePort();
  const sim = await startChild('sim/main.ts', [
    '--port',
    String(simPort),
    '--no-rate-limits',
    '--no-rest-rate-limit',
  ]);
  const simUrl = `http://127.0.0.1:${simPort}`;
  const wsUrl = `ws://127.0.0.1:${simPort}/websocket`;

  const rest = new RocketChatRestClient({ baseUrl: simUrl });
  const alice = await rest.loginWithPassword('alice', 'alice-pass');
  const bob = await rest.loginWithPassword('bob', 'bob-pass');

  // The baseline client: alice's own DDP connection. It also creates the bench rooms.
  const direct = await ddpLogin(wsUrl, alice.token);
  const rooms = ['GENERAL'];
  for (let i = 1; i < 8; i++) {
    const created = await direct.call<{ rid: string }>('createChannel', [
      `bench-${randomUUID().slice(0, 6)}`,
      ['bob'],
    ]);
    rooms.push(created.rid);
  }
  const observer = await RoomObserver.open(wsUrl, bob.token, rooms);

  const gatewayProcess = await startGateway(redisUrl, simUrl);
  const gatewayPool = new Pool(`http://127.0.0.1:${gatewayProcess.firstLine.trim()}`, {
    connections: REQUESTS,
  });
  // The floor under any HTTP front: the same requests relayed to sendMessage with no other work.
  const relayProcess = await startChild('bench/support/bare-relay.ts', [wsUrl, alice.token, String(WINDOW)]);
  const relayPool = new Pool(`http://127.0.0.1:${relayProcess.firstLine.trim()}`, { connections: REQUESTS });

  const baseline = (tag: string, laneRooms: readonly string[], window = WINDOW) =>
    measure(
      laneRooms,
      observer,
      tag,
      async (rid, text) => {
        await direct.call('sendMessage', [{ _id: newMessageId(), rid, msg: text }]);
      },
      window,
    );
  const posting =
    (pool: Pool) =>
    (tag: string, laneRooms: readonly string[], window = REQUESTS, count = MESSAGES) =>
      measure(
        laneRooms,
        observer,
        tag,
        async (roomId, text) => {
          const res = await pool.request({
            method: 'POST',
            path: '/v1/messages',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ roomId, text }),
          });
          const body = await res.body.text();
          if (res.statusCode !== 202) throw new Error(`POST answered ${res.statusCode}: ${body}`);
          // One at a time means one message in the whole path: wait until it is stored upstream.
          if (window === 1) await observer.waitFor(text);
        },
        window,
        count,
      );
  const gateway = posting(gatewayPool);
  const relay = posting(relayPool);

  // Warm-up: sessions, JIT, connections.
  await baseline('warm-direct', rooms);
  await gateway('warm-gateway', rooms);
  await relay('warm-relay', rooms);

  const shapes = [
    { name: '1 lane (1 user, 1 room)', rooms: rooms.slice(0, 1) },
    { name: '8 lanes (1 user, 8 rooms)', rooms },
  ];
  const results = new Map<string, RunResult[]>();
  const push = (key: string, result: RunResult) => results.set(key, [...(results.get(key) ?? []), result]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const shape of shapes) {
      push(`direct ${shape.name}`, await baseline(`d${round} ${shape.rooms.length}`, shape.rooms));
      if (shape.rooms.length === 1) {
        push('direct awaiting each call', await baseline(`s${round}`, shape.rooms, 1));
        // Latency without a backlog: the next request only once the previous message is stored.
        push('gateway one at a time', await gateway(`q${round}`, shape.rooms, 1, Math.ceil(MESSAGES / 10)));
      }
      push(`gateway ${shape.name}`, await gateway(`g${round} ${shape.rooms.length}`, shape.rooms));
      push(`relay ${shape.name}`, await relay(`r${round} ${shape.rooms.length}`, shape.rooms));
    }
  }

  const postOne = async (text: string): Promise<void> => {
    const res = await gatewayPool.request({
      method: 'POST',
      path: '/v1/messages',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ roomId: rooms[0], text }),
    });
    const body = await res.body.text();
    if (res.statusCode !== 202) throw new Error(`POST answered ${res.statusCode}: ${body}`);
  };
  const pacedLines: string[] = [];
  for (const rate of [50, 200]) {
    const latencies = await paced(postOne, observer, `p${rate}`, rate, PACED_SECONDS);
    pacedLines.push(
      `gateway paced ${rate}/s, 1 lane, 202 -> stored  p50 ${percentile(latencies, 50).toFixed(1).padStart(7)} ms  p99 ${percentile(latencies, 99).toFixed(1).padStart(7)} ms  (${latencies.length} messages)`,
    );
  }

  console.log(
    `outbound: ${MESSAGES} messages per run, window ${WINDOW} sendMessage calls in flight (both), ${REQUESTS} gateway requests in flight, ${ROUNDS} rounds, node ${process.version}`,
  );
  console.log(line('direct sendMessage, 1 in flight', results.get('direct awaiting each call')!));
  const sequential = median(results.get('direct awaiting each call')!.map((r) => r.sentPerSecond));
  console.log(line('gateway queue, 1 message at a time', results.get('gateway one at a time')!, sequential));
  for (const shape of shapes) {
    const base = results.get(`direct ${shape.name}`)!;
    const baseRate = median(base.map((r) => r.sentPerSecond));
    console.log(line(`direct sendMessage, ${shape.name}`, base));
    console.log(line(`gateway queue, ${shape.name}`, results.get(`gateway ${shape.name}`)!, baseRate));
    console.log(line(`bare HTTP relay, ${shape.name}`, results.get(`relay ${shape.name}`)!, baseRate));
  }

  for (const paced of pacedLines) console.log(paced);

  await gatewayPool.close();
  await relayPool.close();
  gatewayProcess.child.kill('SIGTERM');
  relayProcess.child.kill('SIGTERM');
  await direct.close();
  await observer.client.close();
  sim.child.kill('SIGTERM');
  await privateRedis?.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
