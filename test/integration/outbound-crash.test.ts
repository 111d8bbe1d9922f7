/**
 * A worker killed with SIGKILL while a full window of sends is in flight on its session (the
 * simulator holds each `sendMessage` a while, one at a time, as Rocket.Chat runs a
 * connection's methods): whatever Rocket.Chat stored before the socket died is looked up by its
 * fixed message id, the rest is sent by the worker that takes over. No message lost, none
 * stored twice, the order of each room kept, one `outbound.sent` event per message.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import type { GatewayEvent } from '../../src/events/types.js';
import type { OutboundJobView } from '../../src/outbound/index.js';
import { type OutboundHarness, startOutboundHarness } from '../helpers/outbound-harness.js';
import { sharedEnv } from '../helpers/test-core.js';
import { waitFor } from '../helpers/wait-for.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let sim: Simulator;
let h: OutboundHarness;
let shared: Record<string, string>;
const children: ChildProcess[] = [];

function startWorker(workerId: string): { child: ChildProcess; output: string[]; ready: Promise<unknown> } {
  const output: string[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/outbound-worker-process.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...shared,
      NODE_ENV: 'test',
      GATEWAY_ROLE: 'worker',
      REDIS_URL: inject('redisUrl'),
      ROCKETCHAT_URL: sim.url,
      WORKER_ID: workerId,
      SESSION_LEASE_TTL_MS: '1500',
      OUTBOUND_CONCURRENCY: '16',
      LOG_LEVEL: process.env.OUTBOUND_TEST_LOG ?? 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const collect = (chunk: Buffer): void => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) output.push(line);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const ready = waitFor(() => output.includes('outbound worker ready'), 60_000, `worker ${workerId}`).catch(
    (err) => {
      throw new Error(`${(err as Error).message}\n${output.join('\n')}`);
    },
  );
  return { child, output, ready };
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, rateLimits: false });
  shared = sharedEnv();
  // This process only accepts requests (role api: no session pool); the children send.
  h = await startOutboundHarness({
    redisUrl: inject('redisUrl'),
    rocketchatUrl: sim.url,
    users: ['alice'],
    shared,
    worker: false,
    env: { GATEWAY_ROLE: 'api' },
  });
});

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  sim?.control.slowMethod('sendMessage', 0);
  await h?.close();
  await sim?.close();
});

describe('a worker killed with a full window of sends in flight', () => {
  it('loses nothing, stores nothing twice, and keeps each room in order', { timeout: 240_000 }, async () => {
    const ops = sim.control.createRoom({ t: 'c', name: `crash-${Date.now()}`, members: ['alice', 'bob'] });
    const rooms = ['GENERAL', ops._id];
    const victim = startWorker('w-victim');
    await victim.ready;

    // Rocket.Chat takes 100 ms per send, one at a time: the window fills and stays full.
    sim.control.slowMethod('sendMessage', 100);
    const texts: string[] = [];
    const jobs: OutboundJobView[] = [];
    for (let i = 0; i < 48; i++) {
      const text = `crash ${i}`;
      texts.push(text);
      const res = await request(h.app)
        .post('/v1/messages')
        .set('x-test-user', 'alice')
        .send({ roomId: rooms[i % 2], text });
      expect(res.status).toBe(202);
      jobs.push(res.body as OutboundJobView);
    }
    const storedOf = (rid: string) =>
      sim.control
        .roomMessages(rid)
        .filter((m) => m.msg.startsWith('crash '))
        .map((m) => m.msg);
    await waitFor(() => storedOf('GENERAL').length + storedOf(ops._id).length >= 4, 60_000, 'some sends');
    const exited = new Promise((resolve) => victim.child.once('exit', resolve));
    victim.child.kill('SIGKILL');
    await exited;
    const storedAtKill = storedOf('GENERAL').length + storedOf(ops._id).length;
    expect(storedAtKill).toBeLessThan(48);
    sim.control.slowMethod('sendMessage', 0);

    const heir = startWorker('w-heir');
    await heir.ready;
    const views = await waitFor(
      async () => {
        const all = await Promise.all(
          jobs.map(
            async (job) =>
              (await request(h.app).get(`/v1/messages/${job.id}`).set('x-test-user', 'alice'))
                .body as OutboundJobView,
          ),
        );
        return all.every((v) => v.status !== 'queued') ? all : undefined;
      },
      90_000,
      'every job settled',
    ).catch(async (err) => {
      const pending = {
        length: await h.core.redis.zcard(h.core.keys.user(h.userIds.alice!).outboundPending),
      };
      throw new Error(
        `${(err as Error).message}\npending ${pending.length}, stored ${storedOf('GENERAL').length + storedOf(ops._id).length}\n${heir.output.slice(-40).join('\n')}`,
      );
    });
    expect(views.map((v) => v.status)).toEqual(jobs.map(() => 'sent'));

    // Each room: every text once, in the order it was posted.
    for (const [r, rid] of rooms.entries()) {
      expect(storedOf(rid)).toEqual(texts.filter((_, i) => i % 2 === r));
    }
    const ids = new Set(
      [...sim.control.roomMessages('GENERAL'), ...sim.control.roomMessages(ops._id)].map((m) => m._id),
    );
    for (const job of jobs) expect(ids.has(job.messageId)).toBe(true);
    const events = (await h.core.eventLog.readAfter(h.userIds.alice!, undefined, 10_000)).events.map(
      (e) => JSON.parse(e.json) as GatewayEvent,
    );
    const sentEvents = events
      .filter((e) => e.type === 'outbound.sent')
      .map((e) => (e.data as { id: string }).id);
    expect(sentEvents.sort()).toEqual(jobs.map((j) => j.id).sort());
  });
});
