/**
 * Fencing: a worker that is paused, not dead (SIGSTOP here; a long GC pause or a partition from
 * Redis in life), must not write after it lost its lease. Two worker processes; the owner is
 * stopped, the other takes the session over, changes are made, the old owner is continued. Its
 * socket then hands it everything Rocket.Chat sent meanwhile, and it would log all of it again:
 * messages are de-duplicated by id, but a typing event is not, so it would show twice. Redis
 * refuses its appends (an older lease generation) and it closes its session.
 * On a standalone Redis and on a 3-master Redis Cluster.
 */
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Simulator } from '../../sim/index.js';
import { EventLog } from '../../src/events/event-log.js';
import type { RedisClient } from '../../src/redis/connection.js';
import { createKeys } from '../../src/redis/keys.js';
import { SessionLeases } from '../../src/sessions/lease.js';
import { type GatewayProcess, sharedGatewayEnv, startGatewayProcess } from '../helpers/gateway-process.js';
import { hasRedisCli, type PrivateRedisCluster, startRedisCluster } from '../helpers/redis-cluster.js';
import { hasRedisServer } from '../helpers/redis-server.js';
import { startTestSimulator } from '../helpers/sim-flavor.js';
import { waitFor } from '../helpers/wait-for.js';
import { makeUserWanted } from '../helpers/wanted-user.js';

const canRunCluster = hasRedisServer() && hasRedisCli();

interface Setup {
  readonly redisUrl: string;
  readonly isCluster: boolean;
}

let sim: Simulator;
let cluster: PrivateRedisCluster | undefined;

beforeAll(async () => {
  sim = await startTestSimulator({ rateLimits: false });
  if (canRunCluster) cluster = await startRedisCluster(3);
}, 120_000);

afterAll(async () => {
  await sim?.close();
  await cluster?.close();
});

const setups: [string, () => Setup][] = [
  ['standalone Redis', () => ({ redisUrl: inject('redisUrl'), isCluster: false })],
  ...(canRunCluster
    ? ([['a 3-master Redis Cluster', () => ({ redisUrl: cluster!.seedUrl, isCluster: true })]] as [
        string,
        () => Setup,
      ][])
    : []),
];

describe.each(setups)('fencing a paused owner, on %s', (_name, setup) => {
  const processes: GatewayProcess[] = [];
  let redis: RedisClient;

  afterAll(async () => {
    for (const p of processes) p.process.kill('SIGCONT');
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    redis?.disconnect();
  });

  it('the old owner logs nothing after waking and closes its session; each change is logged once', async () => {
    const { redisUrl, isCluster } = setup();
    const env: Record<string, string> = {
      ...sharedGatewayEnv(redisUrl, sim.url),
      GATEWAY_ROLE: 'worker',
      SESSION_LEASE_TTL_MS: '1500',
      ...(isCluster ? { REDIS_CLUSTER: 'true' } : {}),
    };
    const url = new URL(redisUrl);
    redis = isCluster ? new Cluster([{ host: url.hostname, port: Number(url.port) }]) : new Redis(redisUrl);
    const keys = createKeys(env.REDIS_KEY_PREFIX!);
    const eventLog = new EventLog({ redis, keys, maxLength: 100_000, maxAgeMs: 3_600_000 });
    const leases = new SessionLeases({ redis, keys, workerId: 'observer', ttlMs: 1500 });
    const aliceId = await makeUserWanted({
      redis,
      env,
      rocketchatUrl: sim.url,
      username: 'alice',
      topics: 'room:GENERAL,typing:GENERAL',
    });
    const logged = async () => {
      const page = await eventLog.readAfter(aliceId, undefined, 10_000);
      return page.events.map(
        (e) => JSON.parse(e.json) as { type: string; data: { _id?: string; username?: string } },
      );
    };

    processes.push(await startGatewayProcess(env), await startGatewayProcess(env));
    const owner = await waitFor(() => leases.holder(aliceId), 20_000, 'a worker to claim alice');
    const [paused, survivor] =
      owner.workerId === processes[0]!.workerId ? processes : [processes[1]!, processes[0]!];
    const warmUp = sim.control.postMessage('bob', 'GENERAL', 'warm-up');
    await waitFor(
      async () => (await logged()).some((e) => e.data._id === warmUp._id),
      20_000,
      'warm-up logged',
    );
    const connectionsBefore = sim.control.connectionCount();

    paused!.process.kill('SIGSTOP');
    const successor = await waitFor(
      async () => {
        const holder = await leases.holder(aliceId);
        return holder?.workerId === survivor!.workerId ? holder : undefined;
      },
      20_000,
      'the other worker to take alice over',
    );
    expect(successor.generation).toBeGreaterThan(owner.generation);
    // The successor is live once a message posted now is logged; then changes that reach both
    // sockets: the paused one buffers them in its kernel.
    const probe = sim.control.postMessage('bob', 'GENERAL', 'successor live?');
    await waitFor(
      async () => (await logged()).some((e) => e.data._id === probe._id),
      20_000,
      'successor live',
    );
    await waitFor(() => sim.control.connectionCount() > connectionsBefore, 10_000, 'both sockets open');
    const typingBefore = (await logged()).filter((e) => e.type === 'typing').length;
    const whilePaused = [1, 2, 3].map((i) => sim.control.postMessage('bob', 'GENERAL', `while paused ${i}`));
    sim.control.setTyping('bob', 'GENERAL', true);
    await waitFor(
      async () => {
        const events = await logged();
        return (
          whilePaused.every((m) => events.some((e) => e.data._id === m._id)) &&
          events.filter((e) => e.type === 'typing').length > typingBefore
        );
      },
      20_000,
      'the successor to log the changes',
    );

    paused!.process.kill('SIGCONT');
    // The old owner closes its DDP connection: one session for alice again.
    await waitFor(
      () => sim.control.connectionCount() === connectionsBefore,
      20_000,
      'the old owner to close',
    );
    const after = sim.control.postMessage('bob', 'GENERAL', 'after the wake-up');
    await waitFor(async () => (await logged()).some((e) => e.data._id === after._id), 20_000, 'after logged');

    const events = await logged();
    expect(events.filter((e) => e.type === 'typing').length - typingBefore).toBe(1);
    const created = events.filter((e) => e.type === 'message.created').map((e) => e.data._id);
    expect(new Set(created).size).toBe(created.length);
    expect((await leases.holder(aliceId))?.workerId).toBe(survivor!.workerId);
  }, 120_000);
});
