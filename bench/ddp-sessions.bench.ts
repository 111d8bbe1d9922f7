/**
 * DDP sessions: memory per idle, logged-in `DdpClient` session at 2,000 sessions (the aim:
 * under 64 KiB each), as a ratio against a baseline measured in the same run: as many bare `ws`
 * connections that did only the DDP connect handshake. The difference is the client's own cost
 * over a raw socket (state, timers, subscriptions, listeners, the login).
 *
 * A session here is what a gateway session holds upstream: connected, logged in by resume token
 * through `onConnected`, subscribed to `stream-notify-user <uid>/notification` and
 * `stream-room-messages GENERAL`, with a stream listener on each. Every session is its own user.
 *
 * The simulator runs in its own process. Each phase (bare, client) runs in a fresh Node process
 * started with --expose-gc, so that memory one phase frees and the allocator keeps (RSS) is not
 * counted for, or hidden in, the other; rounds alternate the phases and medians count. Heap is
 * read after full collections; RSS also covers native memory (socket buffers, libuv handles).
 *
 * Usage: tsx bench/ddp-sessions.bench.ts [--sessions 2000] [--rounds 3] [--concurrency 50]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { DdpClient } from '../src/ddp/index.js';
import { loginOverDdp } from '../src/rocketchat/login.js';
import { startSimulatorProcess } from './support/simulator-process.js';
import { median, ROOT, ratio } from './support/stats.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const SESSIONS = Number(args.get('sessions') ?? 2000);
const ROUNDS = Number(args.get('rounds') ?? 3);
const CONCURRENCY = Number(args.get('concurrency') ?? 50);
const AIM_KIB = 64;
/** Sessions opened and closed before the first reading, so compiled code is not counted per session. */
const WARMUP = 20;

type PhaseKind = 'bare' | 'client';

interface Credential {
  readonly userId: string;
  readonly token: string;
}

interface Memory {
  readonly heap: number;
  readonly rss: number;
  /** Memory outside the V8 heap that V8 knows of (Buffers and the like). */
  readonly external: number;
}

interface PhaseResult {
  readonly kind: PhaseKind;
  readonly sessions: number;
  readonly openMs: number;
  readonly before: Memory;
  readonly open: Memory;
  readonly closed: Memory;
}

interface Session {
  close(): Promise<void>;
}

const streamOptions = { useCollection: false, args: [] };

/** Baseline: a socket that did `connect` -> `connected` and JSON.parses whatever else comes. */
function openBare(url: string): Promise<Session> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { msg?: string };
      if (frame.msg === 'connected') {
        resolve({
          close: () =>
            new Promise<void>((done) => {
              socket.once('close', () => done());
              socket.terminate();
            }),
        });
      }
    });
    socket.once('open', () =>
      socket.send(JSON.stringify({ msg: 'connect', version: '1', support: ['1', 'pre2', 'pre1'] })),
    );
    socket.once('error', reject);
  });
}

/** A gateway-shaped session: logged in, two streams, a listener on each. */
async function openClient(url: string, credential: Credential): Promise<Session> {
  const client = new DdpClient({
    url,
    onConnected: async (context) => {
      await loginOverDdp(context.call, { kind: 'resume', token: credential.token });
    },
  });
  await client.connect();
  const notifications = `${credential.userId}/notification`;
  await client.subscribe('stream-notify-user', [notifications, streamOptions]);
  await client.subscribe('stream-room-messages', ['GENERAL', streamOptions]);
  client.onStream('stream-notify-user', notifications, () => {});
  client.onStream('stream-room-messages', 'GENERAL', () => {});
  return { close: () => client.close() };
}

async function inBatches<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function measure(): Memory {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the phase with node --expose-gc');
  for (let i = 0; i < 4; i++) gc();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss, external: usage.external };
}

/** One phase, in its own process: open N sessions, read memory, close them, read again. */
async function runPhase(
  kind: PhaseKind,
  url: string,
  credentials: readonly Credential[],
): Promise<PhaseResult> {
  const open = (credential: Credential): Promise<Session> =>
    kind === 'bare' ? openBare(url) : openClient(url, credential);
  const warm = await inBatches(credentials.slice(0, WARMUP), CONCURRENCY, open);
  await Promise.all(warm.map((s) => s.close()));

  const before = measure();
  const started = performance.now();
  const sessions = await inBatches(credentials, CONCURRENCY, open);
  const openMs = performance.now() - started;
  const opened = measure();
  await Promise.all(sessions.map((s) => s.close()));
  sessions.length = 0;
  const closed = measure();
  return { kind, sessions: credentials.length, openMs, before, open: opened, closed };
}

function spawnPhase(kind: PhaseKind, url: string, credentialsFile: string): Promise<PhaseResult> {
  const script = fileURLToPath(import.meta.url);
  const child = spawn(
    process.execPath,
    [
      ...['--expose-gc', '--import', 'tsx', script, '--phase', kind, '--url', url],
      ...['--credentials', credentialsFile, '--concurrency', String(CONCURRENCY)],
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const last = output.trim().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`${kind} phase exited with ${code}: ${output}`));
      else resolve(JSON.parse(last) as PhaseResult);
    });
  });
}

const KiB = 1024;

function perSession(result: PhaseResult, field: keyof Memory, from: 'open' | 'closed' = 'open'): number {
  return (result[from][field] - result.before[field]) / result.sessions / KiB;
}

function kib(value: number): string {
  return `${value.toFixed(1)} KiB`;
}

async function orchestrate(): Promise<void> {
  // No server heartbeat (0): the bare sockets cannot answer pings, and an idle phase can outlast
  // the simulator's 15 s + 15 s. No rate limits: 2,000 logins from one address in a few seconds.
  const sim = await startSimulatorProcess([
    '--no-rate-limits',
    '--no-rest-rate-limit',
    '--heartbeat-interval-ms',
    '0',
  ]);
  const dir = await mkdtemp(join(tmpdir(), 'ddp-sessions-'));
  try {
    const stamp = Date.now().toString(36);
    const usernames = Array.from({ length: SESSIONS }, (_, i) => `bench-${stamp}-${i}`);
    const credentials = await inBatches(usernames, 16, async (username) => {
      await sim.control('POST', '/users', { username, password: 'bench-pass' });
      const { userId, authToken } = await sim.control<{ userId: string; authToken: string }>(
        'POST',
        `/users/${username}/tokens`,
      );
      return { userId, token: authToken };
    });
    const credentialsFile = join(dir, 'credentials.json');
    await writeFile(credentialsFile, JSON.stringify(credentials));

    console.log(
      `ddp-sessions: ${SESSIONS} idle sessions per phase, ${ROUNDS} rounds, each phase in a fresh process`,
    );
    const results: Record<PhaseKind, PhaseResult[]> = { bare: [], client: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate which phase goes first, in case the machine's load drifts within a round.
      const order: PhaseKind[] = round % 2 === 1 ? ['bare', 'client'] : ['client', 'bare'];
      const line: string[] = [];
      for (const kind of order) {
        const result = await spawnPhase(kind, sim.wsUrl, credentialsFile);
        results[kind].push(result);
        line.push(
          `${kind} heap ${kib(perSession(result, 'heap'))} rss ${kib(perSession(result, 'rss'))} ` +
            `(opened in ${(result.openMs / 1000).toFixed(1)} s)`,
        );
      }
      console.log(`  round ${round}: ${line.join(' | ')}`);
    }

    const med = (kind: PhaseKind, field: keyof Memory, from: 'open' | 'closed' = 'open'): number =>
      median(results[kind].map((r) => perSession(r, field, from)));
    const bareHeap = med('bare', 'heap');
    const bareRss = med('bare', 'rss');
    const clientHeap = med('client', 'heap');
    const clientRss = med('client', 'rss');
    console.log('median memory per idle session, and ratio to the bare socket:');
    console.log('                                        heap used          rss                external');
    const row = (name: string, kind: PhaseKind, heap: number, rss: number): void => {
      console.log(
        `  ${name.padEnd(36)} ${kib(heap).padStart(10)} ${ratio(heap, bareHeap).padStart(6)}` +
          ` ${kib(rss).padStart(10)} ${ratio(rss, bareRss).padStart(6)} ${kib(med(kind, 'external')).padStart(11)}`,
      );
    };
    row('bare ws + DDP connect', 'bare', bareHeap, bareRss);
    row('DdpClient, logged in, 2 streams', 'client', clientHeap, clientRss);
    console.log(
      `  the client's own cost over a raw socket: heap ${kib(clientHeap - bareHeap)}, ` +
        `rss ${kib(clientRss - bareRss)} per session`,
    );
    console.log(
      `  heap left after close(), per session: client ${kib(med('client', 'heap', 'closed'))}, ` +
        `bare ${kib(med('bare', 'heap', 'closed'))}`,
    );
    const worst = Math.max(clientHeap, clientRss);
    console.log(
      `  aim: under ${AIM_KIB} KiB per session: ${worst < AIM_KIB ? 'met' : 'NOT met'} ` +
        `(larger of heap and rss: ${kib(worst)})`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
    await sim.close();
  }
}

async function main(): Promise<void> {
  const phase = args.get('phase');
  if (phase === 'bare' || phase === 'client') {
    const credentials = JSON.parse(await readFile(args.get('credentials')!, 'utf8')) as Credential[];
    const result = await runPhase(phase, args.get('url')!, credentials);
    console.log(JSON.stringify(result));
    return;
  }
  await orchestrate();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
