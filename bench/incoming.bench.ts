/**
 * Incoming hooks: posts accepted per second (`POST /hooks/:id/:token` -> 202, the outbound job
 * stored) as a ratio against a bare Express handler that only parses the JSON body and answers
 * 202, in the same run, same client, same payload, same concurrency; then, under a steady load,
 * p50/p99 from the post to the message reaching a subscriber of the room (bob, over DDP: see
 * support/room-observer.ts for why not the message `ts`).
 *
 * The simulator runs in its own process; this one holds the gateway as one `all` replica (the
 * hook app composed as src/gateway.ts mounts it, and outbound sending (the outbox on the user's DDP session),
 * test/helpers/outbound-harness.ts), the bare baseline server and the HTTP load (undici). So the
 * accept path competes with its own worker for the CPU, as it does in one `all` replica. Private Redis unless REDIS_URL is set. Rounds alternate
 * baseline and gateway; medians count.
 *
 * Usage: tsx bench/incoming.bench.ts [--posts 3000] [--rounds 3] [--window 64] [--rate 50] [--seconds 6]
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import {
  createHooksRouter,
  createIncomingHookRouter,
  HookService,
  HookStore,
  hookRateLimitSubject,
} from '../src/hooks/index.js';
import { createApp } from '../src/http/app.js';
import { errorHandler } from '../src/http/middleware/error-handler.js';
import { createRateLimit } from '../src/http/rate-limit.js';
import { createTokenCipher } from '../src/sessions/token-cipher.js';
import { httpContextFromCore } from '../test/helpers/http-context.js';
import { startOutboundHarness, testAuthenticate } from '../test/helpers/outbound-harness.js';
import { startPrivateRedis } from '../test/helpers/redis-server.js';
import { RoomObserver } from './support/room-observer.js';
import { startSimulatorProcess } from './support/simulator-process.js';
import { formatRate, median, percentile, ratio } from './support/stats.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const POSTS = Number(args.get('posts') ?? 3000);
const ROUNDS = Number(args.get('rounds') ?? 3);
const WINDOW = Number(args.get('window') ?? 64);
const RATE = Number(args.get('rate') ?? 50);
const SECONDS = Number(args.get('seconds') ?? 6);
const BODY_LIMIT_BYTES = 1024 * 1024;

async function listen(app: Express): Promise<[Server, string]> {
  const server = createServer(app);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return [server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`];
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Runs `send(i)` for i in [0, n) with at most `window` in flight. */
async function windowed(n: number, window: number, send: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(window, n) }, async () => {
      while (next < n) await send(next++);
    }),
  );
}

/** Posts `n` payloads to `path` on `origin`; resolves with accepted posts per second. */
async function acceptRate(origin: string, path: string, n: number, tag: string): Promise<number> {
  const pool = new Pool(origin, { connections: WINDOW, pipelining: 1 });
  try {
    const started = performance.now();
    await windowed(n, WINDOW, async (i) => {
      const res = await pool.request({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: `${tag} ${i}`, attachments: undefined }),
      });
      await res.body.text();
      if (res.statusCode !== 202) throw new Error(`post ${i} answered ${res.statusCode}`);
    });
    return n / ((performance.now() - started) / 1000);
  } finally {
    await pool.close();
  }
}

async function main(): Promise<void> {
  const privateRedis = process.env.REDIS_URL ? undefined : await startPrivateRedis();
  const redisUrl = process.env.REDIS_URL ?? privateRedis!.url;
  const sim = await startSimulatorProcess(['--no-rate-limits']);
  const h = await startOutboundHarness({ redisUrl, rocketchatUrl: sim.url, users: ['alice'] });
  const bob = await h.core.rest.loginWithPassword('bob', 'bob-pass');
  const observer = await RoomObserver.open(sim.wsUrl, bob.token, ['GENERAL']);
  const hubSubscriber = new Redis(redisUrl, { lazyConnect: true });
  const { core } = h;
  const ctx = httpContextFromCore(core, { subscriber: hubSubscriber });
  const hooks = new HookService({
    store: new HookStore({
      redis: core.redis,
      keys: core.keys,
      cipher: createTokenCipher({ currentKeyId: 'k', keys: new Map([['k', randomBytes(32)]]) }),
    }),
    outbound: h.outbound,
    calls: core.calls,
    publicUrl: 'http://bench.invalid',
  });

  // The gateway: the incoming router ahead of the JSON parser, as src/gateway.ts mounts it.
  const gatewayApp = express();
  gatewayApp.use(
    '/hooks',
    createIncomingHookRouter({
      hooks,
      rateLimit: createRateLimit(ctx, {
        policy: 'hook',
        limit: 1_000_000_000,
        subjectOf: hookRateLimitSubject,
      }),
      bodyLimitBytes: BODY_LIMIT_BYTES,
      logger: ctx.logger,
    }),
  );
  gatewayApp.use(
    createApp(ctx, [
      { path: '/v1/hooks', router: createHooksRouter({ hooks, authenticate: testAuthenticate(h.userIds) }) },
    ]),
  );
  gatewayApp.use(errorHandler({ logger: ctx.logger, bodyLimitBytes: BODY_LIMIT_BYTES }));

  // The baseline: parse the body, answer 202.
  const bareApp = express();
  bareApp.use(express.json({ limit: BODY_LIMIT_BYTES }));
  bareApp.post('/hooks/:id/:token', (req, res) => {
    res.status(202).json({ id: String((req.body as { text?: unknown }).text ?? '').length });
  });

  const [gatewayServer, gatewayOrigin] = await listen(gatewayApp);
  const [bareServer, bareOrigin] = await listen(bareApp);
  const { hook, url } = await hooks.create(h.userIds.alice!, { roomId: 'GENERAL' });
  const path = new URL(url).pathname;
  console.error(`hook ${hook.id}; ${POSTS} posts per round, window ${WINDOW}, ${ROUNDS} rounds`);

  const bare: number[] = [];
  const gateway: number[] = [];
  try {
    // Warm-up: JIT, connections, Redis scripts, the DDP session.
    await acceptRate(bareOrigin, path, 300, 'warm-bare');
    await acceptRate(gatewayOrigin, path, 300, 'warm-gw');
    await waitUntilDrained(h.outbound.queue);
    for (let round = 0; round < ROUNDS; round++) {
      bare.push(await acceptRate(bareOrigin, path, POSTS, `bare-${round}`));
      gateway.push(await acceptRate(gatewayOrigin, path, POSTS, `gw-${round}`));
      console.error(
        `round ${round + 1}: bare ${formatRate(bare.at(-1)!)}, gateway ${formatRate(gateway.at(-1)!)}`,
      );
      // Let the worker catch up, so rounds do not inherit each other's backlog.
      await waitUntilDrained(h.outbound.queue);
    }

    // Steady load: `rate` posts per second for SECONDS; latency from the post to the stored message.
    const steady = async (rate: number): Promise<string> => {
      const sentAt = new Map<string, number>();
      const pool = new Pool(gatewayOrigin, { connections: 16 });
      const total = rate * SECONDS;
      const started = performance.now();
      const posts: Promise<void>[] = [];
      for (let i = 0; i < total; i++) {
        const due = started + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const text = `steady ${rate} ${i}`;
        sentAt.set(text, performance.now());
        posts.push(
          (async () => {
            const res = await pool.request({
              method: 'POST',
              path,
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ text }),
            });
            await res.body.dump();
            if (res.statusCode !== 202) throw new Error(`the hook answered ${res.statusCode}`);
          })(),
        );
      }
      await Promise.all(posts);
      await pool.close();
      await Promise.all([...sentAt.keys()].map((text) => observer.waitFor(text)));
      const latencies = [...sentAt].map(([text, at]) => observer.seen.get(text)! - at);
      return `Steady load ${rate}/s for ${SECONDS} s (${latencies.length}/${total} messages stored): post -> message stored in the simulator p50 **${percentile(latencies, 50).toFixed(0)} ms**, p99 **${percentile(latencies, 99).toFixed(0)} ms**, max ${Math.max(...latencies).toFixed(0)} ms.`;
    };
    const steadyLines: string[] = [];
    for (const rate of new Set([RATE, 200])) steadyLines.push(await steady(rate));
    const bareRate = median(bare);
    const gatewayRate = median(gateway);
    const lines = [
      '',
      `| accepted posts per second (median of ${ROUNDS}) | rate | ratio |`,
      '|---|---|---|',
      `| bare Express: parse JSON, answer 202 (baseline) | ${formatRate(bareRate)} | 1.00x |`,
      `| hook endpoint: check URL, rate limit, parse, store the job, 202 | **${formatRate(gatewayRate)}** | **${ratio(gatewayRate, bareRate)}** |`,
      '',
      `Rounds: bare ${bare.map(formatRate).join(' / ')}; gateway ${gateway.map(formatRate).join(' / ')}.`,
      '',
      ...steadyLines,
    ];
    console.log(lines.join('\n'));
  } finally {
    await closeServer(gatewayServer);
    await closeServer(bareServer);
    hubSubscriber.disconnect();
    await observer.close();
    await h.close();
    await sim.close();
    await privateRedis?.close();
  }
}

/** Until no outbound job is waiting, delayed or active (bounded). */
async function waitUntilDrained(queue: {
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
}): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
    if (Object.values(counts).every((n) => n === 0)) return;
    if (Date.now() > deadline) throw new Error(`outbound queue did not drain: ${JSON.stringify(counts)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

await main();
