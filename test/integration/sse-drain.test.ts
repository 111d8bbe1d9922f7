/**
 * SSE across replicas, with the real entry point (src/main.ts) in child processes:
 * - a rolling restart: SIGTERM to the replica holding both the client's stream and the user's
 *   session ends the stream with a `reconnect` event, the process exits 0 within the grace
 *   period, the other replica takes the session over while the client is away (so even a
 *   notification, which Rocket.Chat never replays, is logged), and the client's own reconnect
 *   (the `eventsource` package, sending its own Last-Event-ID) lands on the other replica and
 *   gets every message posted meanwhile, exactly once and in order, then live ones;
 * - split roles: an `api` replica streams the events of a session that a `worker` replica holds.
 * The test plays the ingress: its `fetch` sends requests to the replica currently in rotation
 * (as an ingress stops routing to a pod whose readiness went false) and can hold the reconnect
 * back, so that messages are certainly posted while no stream is open.
 */
import { EventSource } from 'eventsource';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import { EventLog } from '../../src/events/event-log.js';
import { createKeys } from '../../src/redis/keys.js';
import { parseLease } from '../../src/sessions/lease.js';
import { type GatewayProcess, sharedGatewayEnv, startGatewayProcess } from '../helpers/gateway-process.js';
import { loginThroughGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';

const GRACE_MS = 10_000;

let sim: Simulator;
let redis: Redis;
const processes: GatewayProcess[] = [];
const sources: EventSource[] = [];

interface Received {
  readonly type: string;
  readonly id: string;
  /** The message text (message events) or the notification text (`notification`). */
  readonly msg: string | undefined;
  /** Which connection of the EventSource delivered it (1 = first, 2 = after one reconnect). */
  readonly connection: number;
}

/** A stand-in for the ingress in front of the replicas: where requests go, and a hold switch. */
class Ingress {
  target: string;
  /** The Last-Event-ID header of each request that went through, in order. */
  readonly lastEventIds: (string | undefined)[] = [];
  readonly targets: string[] = [];
  #held: Promise<void> | undefined;
  #release: (() => void) | undefined;

  constructor(target: string) {
    this.target = target;
  }

  /** Requests wait (as on a slow reconnect) until `release()`. */
  hold(): void {
    this.#held ??= new Promise((resolve) => {
      this.#release = resolve;
    });
  }

  release(): void {
    this.#release?.();
    this.#held = undefined;
    this.#release = undefined;
  }

  fetchAs(token: string): typeof fetch {
    return async (input, init) => {
      await this.#held;
      const url = new URL(String(input));
      const headers: Record<string, string> = {
        ...(init?.headers as Record<string, string>),
        authorization: `Bearer ${token}`,
      };
      this.lastEventIds.push(headers['Last-Event-ID'] ?? headers['last-event-id']);
      this.targets.push(this.target);
      return fetch(`${this.target}${url.pathname}${url.search}`, { ...init, headers });
    };
  }
}

function openStream(path: string, token: string, ingress: Ingress) {
  const received: Received[] = [];
  let connection = 0;
  let errors = 0;
  // The URL's origin is a placeholder: the ingress decides where the request goes.
  const source = new EventSource(`http://gateway.invalid${path}`, { fetch: ingress.fetchAs(token) });
  sources.push(source);
  for (const type of [
    'message.created',
    'message.updated',
    'notification',
    'subscription.changed',
    'room.changed',
    'reconnect',
    'gap',
  ]) {
    source.addEventListener(type, (event) => {
      const data = JSON.parse(event.data) as { data?: { msg?: string; text?: string } };
      received.push({ type, id: event.lastEventId, msg: data.data?.msg ?? data.data?.text, connection });
      if (type === 'reconnect') onReconnect?.();
    });
  }
  let onReconnect: (() => void) | undefined;
  source.onopen = () => {
    connection++;
  };
  source.onerror = () => {
    errors++;
  };
  return {
    source,
    received,
    connections: () => connection,
    errors: () => errors,
    onReconnect: (listener: () => void) => {
      onReconnect = listener;
    },
  };
}

function messagesOf(received: readonly Received[]): Received[] {
  return received.filter((e) => e.type.startsWith('message.'));
}

/** Which worker holds the user's session (the lease in Redis), for processes sharing `env`. */
async function leaseOwner(env: Record<string, string>, userId: string): Promise<string | undefined> {
  return parseLease(await redis.get(createKeys(env.REDIS_KEY_PREFIX!).user(userId).lease))?.workerId;
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, rateLimits: false });
  redis = new Redis(inject('redisUrl'));
});

afterAll(async () => {
  for (const source of sources) source.close();
  await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  await redis?.quit();
  await sim?.close();
});

describe('SSE across replicas', () => {
  it('SIGTERM: reconnect event, exit 0 within the grace period, resume on the other replica with nothing lost or doubled', async () => {
    const env: Record<string, string> = {
      ...sharedGatewayEnv(inject('redisUrl'), sim.url),
      GATEWAY_ROLE: 'all',
      SESSION_LEASE_TTL_MS: '1500',
      SUBSCRIPTION_LINGER_MS: '200',
      RECONNECT_MAX_DELAY_MS: '1000',
      SSE_RETRY_MS: '100',
      SHUTDOWN_GRACE_MS: String(GRACE_MS),
    };
    // A first, alone, so that A certainly holds the session as well as the stream.
    const a = await startGatewayProcess(env);
    processes.push(a);
    const { token, userId } = await loginThroughGateway(a.url, 'alice');
    const ingress = new Ingress(a.url);
    // `user` too: its events (notifications...) exist only live, Rocket.Chat never replays them.
    const stream = openStream('/v1/events?topics=room:GENERAL,user', token, ingress);
    await waitFor(() => stream.connections() === 1, 20_000, 'the stream to open on A');
    expect(await leaseOwner(env, userId)).toBe(a.workerId);
    const eventLog = new EventLog({
      redis,
      keys: createKeys(env.REDIS_KEY_PREFIX!),
      maxLength: 10_000,
      maxAgeMs: 3_600_000,
    });
    const logged = async (after: string): Promise<string[]> =>
      (await eventLog.readAfter(userId, after, 1000)).events.map((e) => e.json);

    const b = await startGatewayProcess(env);
    processes.push(b);
    const posted: string[] = [];
    const post = (label: string): void => {
      posted.push(label);
      sim.control.postMessage('bob', 'GENERAL', label);
    };
    for (let i = 1; i <= 3; i++) post(`before ${i}`);
    await waitFor(() => messagesOf(stream.received).length === 3, 20_000, 'the first messages on A');

    // The ingress takes A out of rotation when A says it is going away, and holds the client's
    // reconnect until the messages below have been posted with no stream open anywhere.
    stream.onReconnect(() => {
      ingress.target = b.url;
      ingress.hold();
    });
    const signalledAt = Date.now();
    const exited = a.kill('SIGTERM');
    for (let i = 1; i <= 3; i++) post(`during drain ${i}`);
    await waitFor(() => stream.received.some((e) => e.type === 'reconnect'), 10_000, 'the reconnect event');
    // The stream ended: the client reports the error and schedules its own reconnect.
    await waitFor(() => stream.errors() > 0, 10_000, 'the end of the stream on A');
    expect(await exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(GRACE_MS);
    expect(a.output.some((line) => line.includes('shutdown grace period exceeded'))).toBe(false);

    // The drain released A's lease and the stream's consumer registration stays until it
    // expires, so B takes the session over at once, while the client is still away: what is
    // posted now is logged live, notifications included.
    const lastIdSeen = stream.received.filter((e) => e.id !== '').at(-1)!.id;
    for (let i = 1; i <= 3; i++) post(`after exit ${i}`);
    await waitFor(
      async () => (await logged(lastIdSeen)).some((json) => json.includes('after exit 3')),
      15_000,
      'B to take the session over and log what is posted while the client is away',
    );
    expect(await leaseOwner(env, userId)).toBe(b.workerId);
    post('@alice after exit 4');
    await waitFor(
      async () => (await logged(lastIdSeen)).some((json) => json.includes('"type":"notification"')),
      15_000,
      'the notification of the mention in the log',
    );
    ingress.release();
    await waitFor(() => stream.connections() === 2, 20_000, 'the reconnect to B');
    await waitFor(
      () => messagesOf(stream.received).length === posted.length,
      20_000,
      'every message posted while the client moved',
    );
    for (let i = 1; i <= 3; i++) post(`live ${i}`);
    await waitFor(() => messagesOf(stream.received).length === posted.length, 20_000, 'live messages on B');

    const messages = messagesOf(stream.received);
    // Each exactly once, in the order posted, none missing; all of them new messages.
    expect(messages.map((e) => e.msg)).toEqual(posted);
    expect(messages.every((e) => e.type === 'message.created')).toBe(true);
    const ids = messages.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    // The `reconnect` event came last on A.
    expect(stream.received.filter((e) => e.connection === 1).at(-1)!.type).toBe('reconnect');
    expect(messages.filter((e) => e.connection === 1).map((e) => e.msg)).toEqual(
      posted.slice(0, messages.filter((e) => e.connection === 1).length),
    );
    // The notification of the mention, which only a live session could see, arrived once, on B.
    const notifications = stream.received.filter(
      (e) => e.type === 'notification' && e.msg?.includes('@alice after exit 4'),
    );
    expect(notifications.map((e) => e.connection)).toEqual([2]);
    // The client's own reconnect went to B and carried the id of the last event it saw: the
    // `reconnect` event has no id of its own, so it cannot move the resume point.
    expect(ingress.targets).toEqual([a.url, b.url]);
    expect(ingress.lastEventIds).toEqual([undefined, lastIdSeen]);
    // Everything after the drain came from B: the messages posted after A exited certainly did.
    expect(messages.filter((e) => e.msg?.startsWith('after exit')).every((e) => e.connection === 2)).toBe(
      true,
    );
    expect(stream.received.some((e) => e.type === 'gap')).toBe(false);
    await waitFor(
      async () => (await leaseOwner(env, userId)) === b.workerId,
      10_000,
      'B to hold the session',
    );
    stream.source.close();
  });

  it('an api replica streams the events of a session that a worker replica holds', async () => {
    const shared: Record<string, string> = {
      ...sharedGatewayEnv(inject('redisUrl'), sim.url),
      SESSION_LEASE_TTL_MS: '1500',
      SUBSCRIPTION_LINGER_MS: '200',
    };
    const [worker, api] = await Promise.all([
      startGatewayProcess({ ...shared, GATEWAY_ROLE: 'worker' }),
      startGatewayProcess({ ...shared, GATEWAY_ROLE: 'api' }),
    ]);
    processes.push(worker!, api!);
    const { token, userId } = await loginThroughGateway(api!.url, 'bob');
    const ingress = new Ingress(api!.url);
    const stream = openStream('/v1/events?topics=room:GENERAL', token, ingress);
    await waitFor(() => stream.connections() === 1, 20_000, 'the stream to open on the api replica');
    // The api replica has no session pool: the worker claimed the session when the stream asked.
    expect(await leaseOwner(shared, userId)).toBe(worker!.workerId);

    const labels = ['split 1', 'split 2', 'split 3'];
    for (const label of labels) sim.control.postMessage('alice', 'GENERAL', label);
    await waitFor(() => messagesOf(stream.received).length === labels.length, 20_000, 'the messages');
    expect(messagesOf(stream.received).map((e) => e.msg)).toEqual(labels);
    expect(ingress.targets).toEqual([api!.url]);
    stream.source.close();
  });
});
