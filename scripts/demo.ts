/**
 * `npm run demo` (`tsx scripts/demo.ts [--port N] [--sim-port N] [--chatter-ms N]`): everything
 * needed to try the gateway on one machine, in this one process:
 *
 * - the Rocket.Chat simulator (sim/) on port 3100, or a free port when 3100 is taken, seeded
 *   with alice, bob and carol, and bob posting in GENERAL every few seconds;
 * - a private `redis-server` on a free port, unless `REDIS_URL` names a Redis to use;
 * - the gateway (`GATEWAY_ROLE=all`, src/gateway.ts `startGateway`) on `PORT` (3000), or a free
 *   port when taken, with the console at `/console/`;
 * - a small webhook receiver that prints what it receives, to aim webhooks at.
 *
 * It prints the console URL and the seeded users. Ctrl-C (SIGINT, which a terminal sends to the
 * whole process group) or SIGTERM stops everything it started, in order: chatter, gateway
 * (graceful, bounded), receiver, simulator, Redis; a second Ctrl-C cuts the wait short.
 *
 * Demo settings, not production ones: it listens on 127.0.0.1 only (`HOST` to change), keys are
 * generated per run, and webhooks may target private addresses (`WEBHOOK_ALLOW_PRIVATE_TARGETS`)
 * so that a receiver on this machine works. Other gateway variables in the environment apply.
 */
import { createServer, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { SEED_USERS, type Simulator, startSimulator } from '../sim/index.js';
import { ConfigError, loadConfig } from '../src/config/index.js';
import { type RunningGateway, startGateway } from '../src/gateway.js';
import { createLogger } from '../src/log/index.js';
import { createMetrics } from '../src/metrics/index.js';
import {
  freePort,
  hasRedisServer,
  type PrivateRedis,
  REDIS_MISSING_MESSAGE,
  startPrivateRedis,
} from '../test/helpers/redis-server.js';

export interface DemoOptions {
  /** Gateway port; a free one when it is taken. @defaultValue `PORT` or 3000 */
  readonly port?: number;
  /** Simulator port; a free one when it is taken. @defaultValue 3100 */
  readonly simPort?: number;
  /** bob posts in GENERAL this often; 0 turns it off. @defaultValue 4000 */
  readonly chatterMs?: number;
  /** The environment the gateway's config is read from. @defaultValue process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where progress lines go. @defaultValue console.log */
  readonly print?: (line: string) => void;
}

export interface RunningDemo {
  readonly consoleUrl: string;
  readonly gatewayUrl: string;
  /** The simulator, for scripts that make users do things (scripts/screenshot.ts). */
  readonly simulator: Simulator;
  readonly receiverUrl: string;
  /** Stops everything started, in order, each step even if one fails. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_GATEWAY_PORT = 3000;
const DEFAULT_SIM_PORT = 3100;
const DEFAULT_CHATTER_MS = 4000;
/** The gateway drains within this on Ctrl-C; then the rest is stopped anyway. */
const GATEWAY_STOP_DEADLINE_MS = 10_000;

const CHATTER = [
  'morning all',
  'deploy went out, watching the graphs',
  'anyone seen the build failing on main?',
  'lunch in 10?',
  'PR is up for review',
  'ok, back to it',
];

/** `preferred` if nothing listens there, else a free port. */
async function portOrFree(preferred: number, host: string): Promise<number> {
  const isFree = await new Promise<boolean>((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(preferred, host, () => probe.close(() => resolve(true)));
  });
  return isFree ? preferred : freePort();
}

/**
 * Prints what it receives. A Rocket.Chat-format body (`format: "rocketchat"`) is printed the way
 * a Rocket.Chat bot reads it, and "!ping" from a human (`bot: false`) is answered with
 * `{"text":"pong"}`, which the gateway posts back into the room, as Rocket.Chat does.
 */
async function startReceiver(host: string, print: (line: string) => void): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        print('webhook received: not JSON');
      }
      const id = String(req.headers['webhook-id'] ?? '-');
      if (typeof body.token === 'string' && typeof body.message_id === 'string') {
        const where = String(body.channel_name ?? body.channel_id);
        print(
          `webhook received (rocketchat): #${where} @${String(body.user_name)}: ${String(body.text)} (webhook-id ${id})`,
        );
        if (body.bot !== true && String(body.text).trim() === '!ping') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: 'pong' }));
          return;
        }
      } else {
        print(`webhook received: ${String(body.type ?? '?')} (webhook-id ${id})`);
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return server;
}

/** The pid of the Redis server, to kill it if this process dies without stopping it. */
async function redisPid(url: string): Promise<number | undefined> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    return Number(/process_id:(\d+)/.exec(await client.info('server'))?.[1]) || undefined;
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The gateway's graceful close, bounded: by a deadline, and by the private Redis going away
 * first. A terminal's Ctrl-C reaches every process of its foreground group, the private
 * redis-server included, which often exits before the gateway has drained; without Redis the
 * drain cannot finish (its commands wait for a reconnect), and there is nothing left to drain
 * for: the gateway lives in this process, which exits next.
 */
async function closeGateway(
  gateway: RunningGateway,
  privateRedisPid: number | undefined,
  print: (line: string) => void,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'deadline' | 'redis-gone'>((resolve) => {
    const startedMs = Date.now();
    timer = setInterval(() => {
      if (privateRedisPid !== undefined && !isRunning(privateRedisPid)) resolve('redis-gone');
      else if (Date.now() - startedMs > GATEWAY_STOP_DEADLINE_MS) resolve('deadline');
    }, 50);
  });
  try {
    const outcome = await Promise.race([gateway.close().then(() => 'closed' as const), bound]);
    if (outcome === 'redis-gone')
      print('Redis stopped first (Ctrl-C reaches it too): not waiting for the drain');
    if (outcome === 'deadline') {
      throw new Error(`the gateway did not drain within ${GATEWAY_STOP_DEADLINE_MS} ms`);
    }
  } finally {
    clearInterval(timer);
  }
}

export async function startDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const env = options.env ?? process.env;
  const print = options.print ?? ((line: string) => console.log(line));
  const host = env['HOST'] ?? '127.0.0.1';
  const chatterMs = options.chatterMs ?? DEFAULT_CHATTER_MS;
  const started: { name: string; stop: () => Promise<unknown> }[] = [];
  let closing: Promise<void> | undefined;

  const close = (): Promise<void> => {
    closing ??= (async () => {
      const errors: unknown[] = [];
      // Newest first: the gateway stops before the Redis and the simulator it uses.
      for (const { name, stop } of started.reverse()) {
        try {
          await stop();
        } catch (err) {
          errors.push(err);
          print(`error while stopping the ${name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      if (errors.length > 0) throw new AggregateError(errors, 'the demo stopped with errors');
    })();
    return closing;
  };

  try {
    // Redis first: without it nothing else is worth starting.
    let redisUrl = env['REDIS_URL'];
    let privateRedisPid: number | undefined;
    let redisNote = `REDIS_URL (${redisUrl})`;
    if (!redisUrl) {
      if (!hasRedisServer()) throw new Error(REDIS_MISSING_MESSAGE);
      const redis: PrivateRedis = await startPrivateRedis();
      const pid = await redisPid(redis.url);
      privateRedisPid = pid;
      // Last resort if this process exits without stopping it (an uncaught error): no orphan.
      const killOnExit = (): void => {
        if (pid !== undefined && isRunning(pid)) process.kill(pid, 'SIGKILL');
      };
      process.once('exit', killOnExit);
      started.push({
        name: 'Redis',
        stop: async () => {
          await redis.close();
          process.off('exit', killOnExit);
        },
      });
      redisUrl = redis.url;
      redisNote = `private redis-server at ${redis.url} (set REDIS_URL to use another)`;
    }

    const simPort = await portOrFree(options.simPort ?? DEFAULT_SIM_PORT, '127.0.0.1');
    const sim: Simulator = await startSimulator({ port: simPort, host: '127.0.0.1' });
    started.push({ name: 'simulator', stop: () => sim.close() });

    const receiver = await startReceiver(host, print);
    started.push({
      name: 'webhook receiver',
      stop: () =>
        new Promise<void>((resolve) => {
          receiver.close(() => resolve());
          receiver.closeAllConnections();
        }),
    });
    const receiverUrl = `http://${host}:${(receiver.address() as AddressInfo).port}/hook`;

    const requestedPort = options.port ?? (env['PORT'] ? Number(env['PORT']) : DEFAULT_GATEWAY_PORT);
    const port = await portOrFree(requestedPort, host);
    if (port !== requestedPort) print(`port ${requestedPort} is in use: the gateway takes ${port}`);
    const config = loadConfig({
      ...env,
      NODE_ENV: 'development',
      GATEWAY_ROLE: 'all',
      HOST: host,
      PORT: String(port),
      ROCKETCHAT_URL: sim.url,
      REDIS_URL: redisUrl,
      CONSOLE_ENABLED: 'true',
      WEBHOOK_ALLOW_PRIVATE_TARGETS: env['WEBHOOK_ALLOW_PRIVATE_TARGETS'] ?? 'true',
      LOG_LEVEL: env['LOG_LEVEL'] ?? 'warn',
      // A Redis given by REDIS_URL may hold a real gateway's keys: keep the demo's apart.
      REDIS_KEY_PREFIX: env['REDIS_KEY_PREFIX'] ?? (env['REDIS_URL'] ? 'gw-demo' : 'gw'),
    });
    const logger = createLogger({ level: config.log.level, base: { role: config.role } });
    const metrics = createMetrics({ defaultLabels: { role: config.role } });
    const gateway: RunningGateway = await startGateway({
      config,
      logger,
      metrics,
      metricsRegistry: metrics.registry,
    });
    started.push({
      name: 'gateway',
      stop: () => closeGateway(gateway, privateRedisPid, print),
    });
    const gatewayUrl = `http://${host}:${gateway.port}`;

    let chatter: NodeJS.Timeout | undefined;
    if (chatterMs > 0) {
      let n = 0;
      chatter = setInterval(() => {
        const text = CHATTER[n % CHATTER.length] ?? 'hi';
        n += 1;
        try {
          sim.control.postMessage('bob', 'GENERAL', text);
        } catch (err) {
          print(`chatter failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }, chatterMs);
      started.push({ name: 'chatter', stop: async () => clearInterval(chatter) });
    }

    const consoleUrl = `${gatewayUrl}/console/`;
    print('');
    print('Rocket.Chat gateway demo');
    print(`  Console:           ${consoleUrl}`);
    print(`  Gateway API:       ${gatewayUrl}  (/v1/..., /healthz, /metrics)`);
    print(
      `  Rocket.Chat (sim): ${sim.url}${chatterMs > 0 ? `  (bob posts in GENERAL every ${chatterMs / 1000} s)` : ''}`,
    );
    print(`  Redis:             ${redisNote}`);
    print(`  Webhook receiver:  ${receiverUrl}  (prints what it receives)`);
    print(`  Users:             ${SEED_USERS.map((u) => `${u.username} / ${u.password}`).join(', ')}`);
    print('Press Ctrl-C to stop everything.');
    print('');
    return { consoleUrl, gatewayUrl, simulator: sim, receiverUrl, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}

function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) {
    throw new RangeError(`--${name} must be a non-negative integer, got "${value}"`);
  }
  return parsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'sim-port': { type: 'string' },
      'chatter-ms': { type: 'string' },
    },
    strict: true,
  });
  const port = numberFlag('port', values.port);
  const simPort = numberFlag('sim-port', values['sim-port']);
  const chatterMs = numberFlag('chatter-ms', values['chatter-ms']);

  // Handled from the start: a Ctrl-C while starting must stop what has started so far too.
  let demo: RunningDemo | undefined;
  let firstSignalMs: number | undefined;
  const stop = (): void => {
    if (!demo) return; // still starting: stopped as soon as the start returns
    demo.close().then(
      () => {
        console.log('stopped');
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    const now = Date.now();
    if (firstSignalMs === undefined) {
      firstSignalMs = now;
      console.log(`${signal}: stopping the demo...`);
      stop();
    } else if (now - firstSignalMs > 1000) {
      // A second Ctrl-C, not the copy that tsx relays with the first: stop waiting. The gateway
      // and simulator live in this process; the private Redis is killed by the exit hook.
      console.log(`${signal} again: exiting now`);
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  demo = await startDemo({
    ...(port === undefined ? {} : { port }),
    ...(simPort === undefined ? {} : { simPort }),
    ...(chatterMs === undefined ? {} : { chatterMs }),
  });
  if (firstSignalMs !== undefined) stop();
}

const isEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntryPoint) {
  main().catch((err: unknown) => {
    if (err instanceof ConfigError) console.error(err.message);
    else console.error(`the demo failed to start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
