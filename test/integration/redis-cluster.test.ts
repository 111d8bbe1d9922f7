/**
 * The gateway on a 3-master Redis Cluster: an `api` and a `worker` process (src/main.ts, with
 * REDIS_CLUSTER=true and the seed node's URL), against the simulator. Three users are picked so
 * that each one's keys (hash tag `{u:<id>}`) live on a different master, so every multi-key
 * script, MULTI and pipeline of the gateway meets a real slot boundary:
 * - sessions: login, the worker's DDP sessions, calls forwarded api -> worker over Pub/Sub;
 * - the event log and SSE, then a worker killed with SIGKILL, messages posted while no worker
 *   runs, a new worker taking over, and each stream resumed with Last-Event-ID: every message,
 *   once, in order;
 * - webhooks (BullMQ on the hash-tagged prefix `{prefix}:q`): every message delivered, signed;
 * - outbound messages through the queue and an incoming hook.
 *
 * Needs `redis-server` and `redis-cli` (the cluster is private to this file).
 */
import { writeFileSync } from 'node:fs';
import { EventSource } from 'eventsource';
import { Cluster } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import { EventLog } from '../../src/events/event-log.js';
import { createKeys } from '../../src/redis/keys.js';
import { parseLease } from '../../src/sessions/lease.js';
import { type GatewayProcess, sharedGatewayEnv, startGatewayProcess } from '../helpers/gateway-process.js';
import { hasRedisCli, type PrivateRedisCluster, startRedisCluster } from '../helpers/redis-cluster.js';
import { hasRedisServer } from '../helpers/redis-server.js';
import { loginThroughGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const canRunCluster = hasRedisServer() && hasRedisCli();
if (!canRunCluster) {
  console.warn(
    'redis-cluster.test.ts: redis-server or redis-cli missing, the Redis Cluster test cannot run here',
  );
}

const ROOM_NAME = 'cluster-room';

interface ClusterUser {
  readonly username: string;
  readonly userId: string;
  /** The master (host:port) holding the user's keys. */
  readonly node: string;
  token: string;
}

interface Received {
  readonly type: string;
  readonly id: string;
  readonly msg: string | undefined;
}

let cluster: PrivateRedisCluster;
let client: Cluster;
let sim: Simulator;
let receiver: WebhookReceiver;
let env: Record<string, string>;
let api: GatewayProcess;
let worker: GatewayProcess;
let roomId: string;
const users: ClusterUser[] = [];
const processes: GatewayProcess[] = [];
const sources: EventSource[] = [];

function openStream(user: ClusterUser, lastEventId?: string) {
  const received: Received[] = [];
  let isOpen = false;
  const source = new EventSource(`${api.url}/v1/events?topics=room:${roomId}`, {
    fetch: (input, init) =>
      fetch(input, {
        ...init,
        headers: {
          ...(init?.headers as Record<string, string>),
          authorization: `Bearer ${user.token}`,
          ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
        },
      }),
  });
  sources.push(source);
  for (const type of ['message.created', 'message.updated', 'gap', 'reconnect']) {
    source.addEventListener(type, (event) => {
      const data = JSON.parse(event.data) as { data?: { msg?: string } };
      received.push({ type, id: event.lastEventId, msg: data.data?.msg });
    });
  }
  source.onopen = () => {
    isOpen = true;
  };
  return { source, received, isOpen: () => isOpen };
}

async function call(user: ClusterUser, method: string, path: string, body?: unknown) {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${user.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

/** The master serving `key`'s slot, as the cluster itself reports it. */
async function nodeOf(key: string): Promise<string> {
  const slot = Number(await client.cluster('KEYSLOT', key));
  const node = client.slots[slot]?.[0];
  if (!node) throw new Error(`no node serves slot ${slot}`);
  return node;
}

function messagesIn(received: readonly Received[]): string[] {
  return received.filter((e) => e.type === 'message.created').map((e) => e.msg ?? '');
}

beforeAll(async () => {
  if (!canRunCluster) return;
  cluster = await startRedisCluster(3);
  client = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }]);
  await waitFor(() => client.status === 'ready', 20_000, 'the test client to join the cluster');
  sim = await startSimulator({ port: 0, rateLimits: false });
  receiver = await startWebhookReceiver();
  env = {
    ...sharedGatewayEnv(cluster.seedUrl, sim.url),
    REDIS_CLUSTER: 'true',
    SESSION_LEASE_TTL_MS: '1500',
    SUBSCRIPTION_LINGER_MS: '200',
    RECONNECT_MAX_DELAY_MS: '1000',
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_RETRY_SCHEDULE_MS: '100,200,400',
  };
  const keys = createKeys(env.REDIS_KEY_PREFIX!);
  // Users until each master holds one: the ids are random, so this takes a handful.
  const byNode = new Map<string, ClusterUser>();
  for (let i = 0; byNode.size < 3; i++) {
    if (i >= 200) throw new Error('could not spread users over the three masters');
    const username = `cl-${i}`;
    const created = sim.control.createUser({ username, password: `${username}-pass` });
    const node = await nodeOf(keys.user(created._id).events);
    if (!byNode.has(node)) byNode.set(node, { username, userId: created._id, node, token: '' });
  }
  users.push(...byNode.values());
  roomId = sim.control.createRoom({ t: 'c', name: ROOM_NAME, members: users.map((u) => u.username) })._id;

  api = await startGatewayProcess({ ...env, GATEWAY_ROLE: 'api' });
  worker = await startGatewayProcess({ ...env, GATEWAY_ROLE: 'worker' });
  processes.push(api, worker);
  for (const user of users) user.token = (await loginThroughGateway(api.url, user.username)).token;
}, 120_000);

afterAll(async () => {
  // Kept for a failure's post-mortem: the processes' own log lines.
  const logs = process.env.CLUSTER_TEST_LOGS;
  if (logs) for (const [i, p] of processes.entries()) writeFileSync(`${logs}-${i}.log`, p.output.join('\n'));
  for (const source of sources) source.close();
  await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  await receiver?.close();
  await sim?.close();
  client?.disconnect();
  await cluster?.close();
});

describe.skipIf(!canRunCluster)('gateway on a 3-master Redis Cluster (api + worker processes)', () => {
  it('spreads the users over the three masters and is ready', async () => {
    expect(new Set(users.map((u) => u.node)).size).toBe(3);
    expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${worker.url}/readyz`)).status).toBe(200);
  });

  it('streams, delivers webhooks, sends, takes over after SIGKILL and resumes every stream', async () => {
    const secrets = new Map<string, string>();
    for (const user of users) {
      const created = await call(user, 'POST', '/v1/webhooks', {
        url: `${receiver.url}/${user.username}`,
        topics: [`room:${roomId}`],
      });
      expect(created.status).toBe(201);
      secrets.set(user.username, String(created.json.secret));
    }
    const streams = users.map((user) => openStream(user));
    await waitFor(() => streams.every((s) => s.isOpen()), 20_000, 'every stream to open');
    // The worker holds every user's session: the lease keys, one per master.
    const keys = createKeys(env.REDIS_KEY_PREFIX!);
    await waitFor(
      async () => {
        const owners = await Promise.all(
          users.map(async (u) => parseLease(await client.get(keys.user(u.userId).lease))?.workerId),
        );
        return owners.every((owner) => owner === worker.workerId);
      },
      20_000,
      'the worker to lease every session',
    );

    // A method call: api -> worker over Pub/Sub (a global channel on a cluster).
    const rooms = await call(users[0]!, 'POST', '/v1/methods/rooms/get', { params: [] });
    expect(rooms.status).toBe(200);

    const expected: string[] = [];
    const post = (text: string): void => {
      expected.push(text);
      sim.control.postMessage(users[expected.length % users.length]!.username, roomId, text);
    };
    // Subscriptions reach Rocket.Chat a round trip after the stream opens: the first message is
    // posted until it shows up, then never again.
    await waitFor(
      () => {
        if (streams.every((s) => messagesIn(s.received).includes('first'))) return true;
        if (!expected.includes('first')) post('first');
        return false;
      },
      20_000,
      'the first message on every stream',
    );
    for (let i = 1; i <= 5; i++) post(`live ${i}`);

    // Outbound through BullMQ ({prefix}:q) and an incoming hook, from two other users.
    const accepted = await call(users[1]!, 'POST', '/v1/messages', { roomId, text: 'queued send' });
    expect(accepted.status).toBe(202);
    expected.push('queued send');
    await waitFor(
      async () => (await call(users[1]!, 'GET', `/v1/messages/${accepted.json.id}`)).json.status === 'sent',
      30_000,
      'the queued message sent',
    );
    const hook = await call(users[2]!, 'POST', '/v1/hooks', { roomId });
    expect(hook.status).toBe(201);
    const hookUrl = new URL(String(hook.json.url));
    const hooked = await fetch(`${api.url}${hookUrl.pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'through a hook' }),
    });
    expect(hooked.status).toBe(202);
    expected.push('through a hook');
    await waitFor(
      () => streams.every((s) => messagesIn(s.received).length === expected.length),
      30_000,
      'every message on every stream',
    ).catch((err: Error) => {
      const got = streams.map((s) => messagesIn(s.received));
      throw new Error(`${err.message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`);
    });
    for (const stream of streams) expect(messagesIn(stream.received).sort()).toEqual([...expected].sort());

    // Deliveries in flight when a worker dies come back only after BullMQ's stall check (tested
    // in webhooks-crash.test.ts); here the worker is killed between deliveries.
    await waitFor(() => everyWebhookHas(expected), 60_000, 'the deliveries so far');

    // Every stream goes away, the worker dies without a word, messages are posted while nobody
    // holds the sessions, and a new worker takes them over (catch-up from Rocket.Chat).
    const lastIds = streams.map((s) => s.received.filter((e) => e.id !== '').at(-1)!.id);
    const seenBefore = streams.map((s) => messagesIn(s.received).length);
    for (const stream of streams) stream.source.close();
    await worker.kill('SIGKILL');
    const missed: string[] = [];
    for (let i = 1; i <= 4; i++) {
      missed.push(`while down ${i}`);
      post(`while down ${i}`);
    }
    const successor = await startGatewayProcess({ ...env, GATEWAY_ROLE: 'worker' });
    processes.push(successor);
    const resumed = users.map((user, i) => openStream(user, lastIds[i]));
    await waitFor(
      () => resumed.every((s) => messagesIn(s.received).length >= missed.length),
      30_000,
      'the missed messages on every resumed stream',
    );
    post('after takeover');
    await waitFor(
      () => resumed.every((s) => messagesIn(s.received).includes('after takeover')),
      30_000,
      'a live message after the takeover',
    );
    for (const [i, stream] of resumed.entries()) {
      // Exactly what was missed, in the order Rocket.Chat stored it, then live: no gap, no repeat.
      expect(messagesIn(stream.received)).toEqual([...missed, 'after takeover']);
      expect(stream.received.some((e) => e.type === 'gap')).toBe(false);
      expect(seenBefore[i]).toBe(expected.length - missed.length - 1);
    }
    const owners = await Promise.all(
      users.map(async (u) => parseLease(await client.get(keys.user(u.userId).lease))?.workerId),
    );
    expect(owners.every((owner) => owner === successor.workerId)).toBe(true);

    // Webhooks: every message reached every user's endpoint, signed with that user's secret.
    await waitFor(() => everyWebhookHas(expected), 60_000, 'every message delivered to every webhook');
    for (const user of users) {
      const hit = receiver.hits.find((h) => hitOwner(h.body) === user.userId)!;
      const verified = new Webhook(secrets.get(user.username)!).verify(hit.body, {
        'webhook-id': hit.webhookId,
        'webhook-timestamp': hit.timestamp,
        'webhook-signature': hit.signature,
      }) as { userId: string };
      expect(verified.userId).toBe(user.userId);
    }
  }, 240_000);

  it('a master stopped for seconds and started again with its data: no stored message is missing', async () => {
    // Not the seed: the Pub/Sub connections stay up.
    const seed = `127.0.0.1:${cluster.ports[0]}`;
    await outageOf(Number(users.find((u) => u.node !== seed)!.node.split(':')[1]));
  }, 180_000);

  it('the seed node (where the Pub/Sub connections are) stopped and started again: the same', async () => {
    await outageOf(cluster.ports[0]!);
  }, 180_000);
});

/** Whether every user's webhook endpoint received (2xx) each of `texts`. */
function everyWebhookHas(texts: readonly string[]): boolean {
  return users.every((user) => {
    const received = new Set(
      receiver.hits
        .filter((hit) => hit.status !== undefined && hit.status < 300 && hitOwner(hit.body) === user.userId)
        .map((hit) => (JSON.parse(hit.body) as { data: { msg?: string } }).data.msg),
    );
    return texts.every((text) => received.has(text));
  });
}

function hitOwner(body: string): string | undefined {
  return (JSON.parse(body) as { userId?: string }).userId;
}

/**
 * Stops one master for 3 s (its data saved) while messages are posted, starts it again, and
 * checks that every user's log has every message once, in order, and every webhook got them.
 */
async function outageOf(port: number): Promise<void> {
  const keys = createKeys(env.REDIS_KEY_PREFIX!);
  const eventLog = new EventLog({ redis: client, keys, maxLength: 10_000, maxAgeMs: 3_600_000 });
  const messagesLogged = async (user: ClusterUser): Promise<string[]> =>
    (await eventLog.readAfter(user.userId, undefined, 10_000)).events
      .map((e) => JSON.parse(e.json) as { type: string; data: { msg?: string } })
      .filter((e) => e.type === 'message.created')
      .map((e) => e.data.msg ?? '');
  const posted: string[] = [];
  const tag = `(${port})`;
  const post = (text: string): void => {
    posted.push(text);
    sim.control.postMessage(users[0]!.username, roomId, text);
  };
  post(`before the outage ${tag}`);
  await waitFor(
    async () =>
      (await Promise.all(users.map(messagesLogged))).every((m) => m.includes(`before the outage ${tag}`)),
    30_000,
    'the first message logged for every user',
  );
  await cluster.stopNode(port);
  for (let i = 1; i <= 3; i++) post(`during the outage ${i} ${tag}`);
  // Long enough for leases to lapse and the gateway to see errors, shorter than the node timeout.
  await new Promise((r) => setTimeout(r, 3000));
  await cluster.startNode(port);
  post(`after the outage ${tag}`);
  await waitFor(
    async () => {
      const logs = await Promise.all(users.map(messagesLogged));
      return logs.every((log) => posted.every((text) => log.includes(text)));
    },
    60_000,
    "every message in every user's log",
  ).catch(async (err: Error) => {
    const logs = await Promise.all(users.map(messagesLogged));
    throw new Error(
      `${err.message}: ${JSON.stringify(logs.map((log) => log.filter((t) => posted.includes(t))))}`,
    );
  });
  for (const user of users) {
    const log = (await messagesLogged(user)).filter((text) => posted.includes(text));
    // Once each, in the order Rocket.Chat stored them.
    expect(log).toEqual(posted);
  }
  await waitFor(async () => (await fetch(`${api.url}/readyz`)).status === 200, 30_000, 'api ready');
  // Webhook deliveries held up by the outage go out once it is over.
  await waitFor(() => everyWebhookHas(posted), 90_000, 'every message delivered to every webhook');
}
