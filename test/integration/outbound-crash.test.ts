/**
 * A worker killed with SIGKILL after Rocket.Chat stored its message but before the job was
 * acknowledged: BullMQ hands the stalled job to another worker, which finds the attempt marker,
 * looks the fixed message id up instead of sending blindly, and reports it sent. One message.
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
let child: ChildProcess | undefined;
const output: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ port: 0, rateLimits: false });
  const shared = sharedEnv();
  // The test process accepts requests (and logs alice in); the child is the only worker.
  h = await startOutboundHarness({
    redisUrl: inject('redisUrl'),
    rocketchatUrl: sim.url,
    users: ['alice'],
    shared,
    worker: false,
  });
  child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/outbound-worker-process.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...shared,
      NODE_ENV: 'test',
      REDIS_URL: inject('redisUrl'),
      ROCKETCHAT_URL: sim.url,
      WORKER_ID: 'w-victim',
      SESSION_LEASE_TTL_MS: '1500',
      LOG_LEVEL: 'warn',
      OUTBOUND_TEST_HANG_AFTER_SEND: '1',
      OUTBOUND_TEST_LOCK_MS: '2000',
      OUTBOUND_TEST_STALLED_INTERVAL_MS: '500',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (chunk: Buffer): void => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) output.push(line);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  await waitFor(() => output.includes('outbound worker ready'), 30_000, 'the worker process').catch((err) => {
    throw new Error(`${(err as Error).message}\n${output.join('\n')}`);
  });
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await h?.close();
  await sim?.close();
});

describe('a worker killed between sending and acknowledging', () => {
  it('leaves exactly one message, reported sent by the worker that takes over', async () => {
    const res = await request(h.app)
      .post('/v1/messages')
      .set('x-test-user', 'alice')
      .send({ roomId: 'GENERAL', text: 'survives kill -9' });
    expect(res.status).toBe(202);
    const { id, messageId } = res.body as OutboundJobView;

    await waitFor(() => output.find((line) => line === `SENT ${messageId}`), 30_000, 'the send').catch(
      (err) => {
        throw new Error(`${(err as Error).message}\n${output.join('\n')}`);
      },
    );
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child!.kill('SIGKILL');
    await exited;
    expect(sim.control.roomMessages('GENERAL').filter((m) => m.msg === 'survives kill -9')).toHaveLength(1);
    const job = await h.outbound.queue.getJob(id);
    expect(job?.finishedOn).toBeUndefined();

    // Another worker: it picks the job up once the dead worker's lock lapses.
    await h.startWorker({ lockDurationMs: 2000, stalledIntervalMs: 500 });
    const view = await waitFor(
      async () => {
        const body = (await request(h.app).get(`/v1/messages/${id}`).set('x-test-user', 'alice'))
          .body as OutboundJobView;
        return body.status === 'queued' ? undefined : body;
      },
      30_000,
      'the job to be settled',
    ).catch(async (err) => {
      const j = await h.outbound.queue.getJob(id);
      throw new Error(
        `${(err as Error).message}\nstate ${await j?.getState()} ${JSON.stringify(j)}\n${h.core.logLines
          .filter((l) => /outbound|warn|error/.test(l))
          .slice(-20)
          .join('')}`,
      );
    });
    expect(view).toEqual({ id, messageId, status: 'sent' });
    const stored = sim.control.roomMessages('GENERAL').filter((m) => m.msg === 'survives kill -9');
    expect(stored.map((m) => m._id)).toEqual([messageId]);
    const events = (await h.core.eventLog.readAfter(h.userIds.alice!, undefined, 10_000)).events.map(
      (e) => JSON.parse(e.json) as GatewayEvent,
    );
    expect(
      events.filter((e) => e.type === 'outbound.sent' && (e.data as { id?: string }).id === id),
    ).toHaveLength(1);
  });
});
