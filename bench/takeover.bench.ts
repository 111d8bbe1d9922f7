/**
 * Takeover after a crash: two worker processes (src/main.ts), a user's session on one of them,
 * the simulator posting steadily into the user's room; the owner is killed with SIGKILL, and
 * the time until the other worker holds the lease and until the log receives a message posted
 * after the kill is measured, then a new worker replaces the dead one, KILLS times over.
 *
 * Baseline, measured in the same run on the same processes: a cold start, i.e. a user nobody
 * holds becoming wanted, until a message posted then is logged (claim, connect, login,
 * subscribe, catch-up). A takeover cannot beat it; the ratio shows what detection adds. The
 * lease TTL (what a takeover had to wait out before) is printed beside it.
 *
 * At the end every message the simulator stored is checked to be in the log exactly once.
 *
 * Usage: tsx bench/takeover.bench.ts [--kills 20] [--lease-ttl-ms 6000]
 */
import { Redis } from 'ioredis';
import { startSimulator } from '../sim/index.js';
import { EventLog } from '../src/events/event-log.js';
import { createKeys } from '../src/redis/keys.js';
import { ConsumerRegistry } from '../src/sessions/consumer-registry.js';
import { SessionLeases } from '../src/sessions/lease.js';
import {
  type GatewayProcess,
  sharedGatewayEnv,
  startGatewayProcess,
} from '../test/helpers/gateway-process.js';
import { startPrivateRedis } from '../test/helpers/redis-server.js';
import { waitFor } from '../test/helpers/wait-for.js';
import { makeUserWanted } from '../test/helpers/wanted-user.js';
import { median, percentile, ratio } from './support/stats.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const KILLS = flag('kills', 20);
const LEASE_TTL_MS = flag('lease-ttl-ms', 6000);
const POST_EVERY_MS = 20;

async function main(): Promise<void> {
  const redisServer = await startPrivateRedis();
  const sim = await startSimulator({ port: 0, rateLimits: false });
  const env: Record<string, string> = {
    ...sharedGatewayEnv(redisServer.url, sim.url),
    GATEWAY_ROLE: 'worker',
    SESSION_LEASE_TTL_MS: String(LEASE_TTL_MS),
    LOG_LEVEL: 'info',
  };
  const redis = new Redis(redisServer.url);
  const keys = createKeys(env.REDIS_KEY_PREFIX!);
  const eventLog = new EventLog({ redis, keys, maxLength: 1_000_000, maxAgeMs: 3_600_000 });
  const leases = new SessionLeases({ redis, keys, workerId: 'bench-observer', ttlMs: LEASE_TTL_MS });
  const consumers = new ConsumerRegistry({ redis, keys });
  /** A user with a durable consumer of room:GENERAL, as a webhook makes one. */
  const wantUser = async (username: string): Promise<string> => {
    if (username !== 'alice') sim.control.createUser({ username, password: `${username}-pass` });
    return makeUserWanted({ redis, env, rocketchatUrl: sim.url, username, consumerId: 'bench' });
  };
  const loggedIds = async (userId: string): Promise<string[]> => {
    const ids: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await eventLog.readAfter(userId, after, 5000);
      for (const event of page.events) {
        const parsed = JSON.parse(event.json) as { type: string; data: { _id: string } };
        if (parsed.type === 'message.created') ids.push(parsed.data._id);
      }
      if (page.events.length < 5000) return ids;
      after = page.events.at(-1)!.id;
    }
  };
  /** The message id of the newest log entry (fields: t, type, r, room, b, envelope tail). */
  const lastLoggedId = async (userId: string): Promise<string | undefined> => {
    const [entry] = await redis.xrevrange(keys.user(userId).events, '+', '-', 'COUNT', 1);
    const tail = entry?.[1][5];
    return tail ? (JSON.parse(`{${tail}`) as { data?: { _id?: string } }).data?._id : undefined;
  };

  const aliceId = await wantUser('alice');
  const workers: GatewayProcess[] = [await startGatewayProcess(env), await startGatewayProcess(env)];
  await waitFor(() => leases.holder(aliceId), 30_000, 'a worker to claim alice');

  // Steady traffic: one message every POST_EVERY_MS, each remembered with when it was posted.
  const postedAt = new Map<string, number>();
  let posting = true;
  const poster = (async () => {
    for (let n = 0; posting; n++) {
      const message = sim.control.postMessage('bob', 'GENERAL', `steady ${n}`);
      postedAt.set(message._id, Date.now());
      await new Promise((resolve) => setTimeout(resolve, POST_EVERY_MS));
    }
  })();
  /** Resolves when a message posted at or after `sinceMs` is in the log; returns when it got there. */
  const loggedSince = async (userId: string, sinceMs: number, what: string): Promise<number> => {
    await waitFor(
      async () => {
        const last = await lastLoggedId(userId);
        return last !== undefined && (postedAt.get(last) ?? 0) >= sinceMs;
      },
      60_000,
      what,
    );
    return Date.now();
  };
  await loggedSince(aliceId, Date.now(), 'alice live');

  const leaseMs: number[] = [];
  const liveMs: number[] = [];
  const coldMs: number[] = [];
  for (let kill = 0; kill < KILLS; kill++) {
    // Baseline: a user nobody holds becomes wanted, until a message posted then is logged.
    const coldStart = Date.now();
    const fresh = await wantUser(`cold-${kill}`);
    coldMs.push((await loggedSince(fresh, coldStart, 'a cold session live')) - coldStart);
    await consumers.unregister(fresh, 'bench');

    const holder = (await leases.holder(aliceId))!;
    const victim = workers.find((w) => w.workerId === holder.workerId)!;
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    await waitFor(
      async () => {
        const next = await leases.holder(aliceId);
        return next !== undefined && next.workerId !== victim.workerId;
      },
      60_000,
      'takeover',
    );
    leaseMs.push(Date.now() - killedAt);
    liveMs.push((await loggedSince(aliceId, killedAt, 'live after the kill')) - killedAt);
    workers.splice(workers.indexOf(victim), 1);
    workers.push(await startGatewayProcess(env));
    process.stderr.write(`kill ${kill + 1}/${KILLS}: lease ${leaseMs.at(-1)} ms, live ${liveMs.at(-1)} ms\n`);
  }
  posting = false;
  await poster;

  const stored = sim.control
    .roomMessages('GENERAL')
    .filter((m) => !m.t && postedAt.has(m._id))
    .map((m) => m._id);
  await waitFor(
    async () => {
      const logged = new Set(await loggedIds(aliceId));
      return stored.every((id) => logged.has(id));
    },
    60_000,
    'every stored message in the log',
  );
  const logged = (await loggedIds(aliceId)).filter((id) => postedAt.has(id));
  const missing = stored.filter((id) => !logged.includes(id)).length;
  const duplicates = logged.length - new Set(logged).size;
  const outOfOrder = logged.join(',') !== stored.filter((id) => logged.includes(id)).join(',');

  const line = (name: string, values: number[]) =>
    `${name.padEnd(34)} median ${median(values).toFixed(0).padStart(5)} ms   p99 ${percentile(values, 99).toFixed(0).padStart(5)} ms   ${ratio(median(values), median(coldMs))} of a cold start`;
  console.log(`takeover after kill -9, ${KILLS} kills, 2 workers, a message every ${POST_EVERY_MS} ms`);
  console.log(line('baseline: cold session start', coldMs));
  console.log(line('kill -> lease held by the other', leaseMs));
  console.log(line('kill -> a later message logged', liveMs));
  console.log(`lease TTL (the old wait): ${LEASE_TTL_MS} ms`);
  console.log(
    `log: ${stored.length} messages stored, ${missing} missing, ${duplicates} duplicated, order ${outOfOrder ? 'BROKEN' : 'kept'}`,
  );
  await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  redis.disconnect();
  await sim.close();
  await redisServer.close();
  if (missing > 0 || duplicates > 0 || outOfOrder) process.exitCode = 1;
}

void main();
