/**
 * Invariants 1-3 end to end: two real worker processes, the owner killed with SIGKILL while the
 * simulator posts steadily; the other takes over; the event log holds every message Rocket.Chat
 * stored, each exactly once, in order. Then edits and deletions made while no worker runs at
 * all are caught up by the next worker.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Simulator } from '../../sim/index.js';
import { EventLog } from '../../src/events/event-log.js';
import { createKeys } from '../../src/redis/keys.js';
import { SessionLeases } from '../../src/sessions/lease.js';
import { type GatewayProcess, sharedGatewayEnv, startGatewayProcess } from '../helpers/gateway-process.js';
import { startTestSimulator } from '../helpers/sim-flavor.js';
import { waitFor } from '../helpers/wait-for.js';
import { makeUserWanted } from '../helpers/wanted-user.js';

let sim: Simulator;
let redis: Redis;
let env: Record<string, string>;
let eventLog: EventLog;
let leases: SessionLeases;
let aliceId: string;
const processes: GatewayProcess[] = [];

interface LoggedMessage {
  id: string;
  type: string;
  data: { _id: string; msg?: string };
}

async function loggedMessages(): Promise<LoggedMessage[]> {
  const out: LoggedMessage[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await eventLog.readAfter(aliceId, after, 1000);
    for (const event of page.events) {
      const parsed = JSON.parse(event.json) as LoggedMessage;
      if (parsed.type.startsWith('message.')) out.push(parsed);
    }
    if (page.events.length < 1000) return out;
    after = page.events.at(-1)!.id;
  }
}

beforeAll(async () => {
  sim = await startTestSimulator({ rateLimits: false });
  env = {
    ...sharedGatewayEnv(inject('redisUrl'), sim.url),
    GATEWAY_ROLE: 'worker',
    // Far longer than the takeover is allowed to take: it must not wait the lease out.
    SESSION_LEASE_TTL_MS: '30000',
  };
  redis = new Redis(inject('redisUrl'));
  const keys = createKeys(env.REDIS_KEY_PREFIX);
  eventLog = new EventLog({ redis, keys, maxLength: 100_000, maxAgeMs: 3_600_000 });
  leases = new SessionLeases({ redis, keys, workerId: 'test-observer', ttlMs: 30_000 });
  // A durable consumer (as a webhook is) keeps alice's session wanted with no process running.
  aliceId = await makeUserWanted({ redis, env, rocketchatUrl: sim.url, username: 'alice' });
});

afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  await redis?.quit();
  await sim?.close();
});

describe('session ownership across worker processes', () => {
  it('a worker takes over a kill -9ed owner long before its lease expires; the log holds every message exactly once, in order', async () => {
    processes.push(await startGatewayProcess(env), await startGatewayProcess(env));
    const owner = await waitFor(() => leases.owner(aliceId), 20_000, 'a worker to claim alice');
    const [victim, survivor] = owner === processes[0]!.workerId ? processes : [processes[1]!, processes[0]!];
    // The session is live once messages posted now reach the log.
    await sim.control.postMessage('bob', 'GENERAL', 'warm-up');
    await waitFor(async () => (await loggedMessages()).length > 0, 20_000, 'the first logged message');

    let posting = true;
    let posted = 0;
    const poster = (async () => {
      while (posting) {
        await sim.control.postMessage('bob', 'GENERAL', `steady ${posted++}`);
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    await waitFor(async () => (await loggedMessages()).length >= 20, 20_000, '20 logged messages');
    const killedAt = Date.now();
    await victim!.kill('SIGKILL');
    await waitFor(async () => (await leases.owner(aliceId)) === survivor!.workerId, 10_000, 'takeover');
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    const postedAtTakeover = posted;
    await waitFor(async () => posted >= postedAtTakeover + 20, 20_000, 'more posts after takeover');
    posting = false;
    await poster;

    const stored = (await sim.control.roomMessages('GENERAL')).filter((m) => !m.t).map((m) => m._id);
    await waitFor(
      async () => {
        const created = new Set(
          (await loggedMessages()).filter((e) => e.type === 'message.created').map((e) => e.data._id),
        );
        return stored.every((id) => created.has(id));
      },
      30_000,
      'every stored message in the log',
    );
    const created = (await loggedMessages())
      .filter((e) => e.type === 'message.created')
      .map((e) => e.data._id);
    expect(new Set(created).size).toBe(created.length);
    expect(created.filter((id) => stored.includes(id))).toEqual(stored.filter((id) => created.includes(id)));
    expect(created.filter((id) => stored.includes(id))).toEqual(stored);
  });

  it('catches up edits and deletions made while no worker was connected', async () => {
    await Promise.all(processes.splice(0).map((p) => p.kill('SIGKILL')));
    const stored = (await sim.control.roomMessages('GENERAL')).filter((m) => !m.t);
    const edited = stored.at(-3)!;
    const deleted = stored.at(-2)!;
    await sim.control.editMessage(edited._id, 'edited while nobody listened');
    await sim.control.deleteMessage(deleted._id);
    const created = await sim.control.postMessage('bob', 'GENERAL', 'born while nobody listened');

    processes.push(await startGatewayProcess(env));
    await waitFor(
      async () => {
        const log = await loggedMessages();
        return (
          log.some(
            (e) =>
              e.type === 'message.updated' &&
              e.data._id === edited._id &&
              e.data.msg === 'edited while nobody listened',
          ) &&
          log.some((e) => e.type === 'message.deleted' && e.data._id === deleted._id) &&
          log.some((e) => e.type === 'message.created' && e.data._id === created._id)
        );
      },
      30_000,
      'the edit, the deletion and the new message in the log',
    );
    const log = await loggedMessages();
    const versions = log.map((e) => `${e.type}:${e.data._id}:${e.data.msg ?? ''}`);
    expect(new Set(versions).size).toBe(versions.length);
  });
});
