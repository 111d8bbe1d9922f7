/**
 * DDP ingest: stream events per second decoded and dispatched by the gateway's DDP client, as a
 * ratio against a bare `ws` client that only JSON.parses the same stream, and against the
 * official @rocket.chat/ddp-client, all in the same run. The server runs in its own process.
 * Rounds alternate the clients (the machine is noisy: 30-40% between short runs); medians count.
 *
 * Usage: tsx bench/ddp-ingest.bench.ts [--frames 300000] [--rounds 5]
 */
import WebSocket from 'ws';
import { DdpClient } from '../src/ddp/index.js';
import { formatRate, median, ratio, startChild } from './support/stats.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const FRAMES = Number(args.get('frames') ?? 300_000);
const ROUNDS = Number(args.get('rounds') ?? 5);

type Runner = (url: string) => Promise<number>;

/** Baseline: JSON.parse every frame, count the stream events, nothing else. */
const bare: Runner = (url) =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    let count = 0;
    let started = 0;
    socket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { msg?: string; id?: string };
      if (frame.msg === 'changed') {
        if (++count === FRAMES) {
          const seconds = (performance.now() - started) / 1000;
          socket.close();
          resolve(FRAMES / seconds);
        }
      } else if (frame.msg === 'connected') {
        socket.send(
          JSON.stringify({ msg: 'sub', id: 's', name: 'stream-room-messages', params: ['GENERAL', false] }),
        );
      } else if (frame.msg === 'ready') {
        started = performance.now();
        socket.send(JSON.stringify({ msg: 'method', id: 'f', method: 'bench:flood', params: [FRAMES] }));
      }
    });
    socket.on('open', () => socket.send(JSON.stringify({ msg: 'connect', version: '1', support: ['1'] })));
    socket.on('error', reject);
  });

const gateway: Runner = async (url) => {
  const client = new DdpClient({ url });
  await client.connect();
  await client.subscribe('stream-room-messages', ['GENERAL', { useCollection: false, args: [] }]);
  let count = 0;
  let started = 0;
  const done = new Promise<number>((resolve) => {
    client.onStream('stream-room-messages', 'GENERAL', () => {
      if (++count === FRAMES) resolve(FRAMES / ((performance.now() - started) / 1000));
    });
  });
  started = performance.now();
  // The last event can arrive before the flood's `result`; close() then rejects the call with
  // DdpClosedError, which is expected here and must not become an unhandled rejection.
  client.call('bench:flood', [FRAMES], { timeoutMs: 600_000 }).catch(() => {});
  const rate = await done;
  await client.close();
  return rate;
};

async function loadOfficialClient(): Promise<Runner | undefined> {
  try {
    (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
    const sdk = (await import('@rocket.chat/ddp-client')) as unknown as {
      DDPSDK: {
        create(url: string): {
          connection: { connect(): Promise<unknown>; close(): void };
          stream(
            name: string,
            key: unknown,
            cb: (...a: unknown[]) => void,
          ): { ready(): Promise<void>; stop(): void };
          client: { callAsync(m: string, ...p: unknown[]): Promise<unknown> };
        };
      };
    };
    return async (url) => {
      const http = url.replace(/^ws/, 'http').replace(/\/websocket$/, '');
      const client = sdk.DDPSDK.create(http);
      await client.connection.connect();
      let count = 0;
      let started = 0;
      let resolveDone: (rate: number) => void = () => {};
      const done = new Promise<number>((resolve) => {
        resolveDone = resolve;
      });
      const stream = client.stream('room-messages', 'GENERAL', () => {
        if (++count === FRAMES) resolveDone(FRAMES / ((performance.now() - started) / 1000));
      });
      await stream.ready();
      started = performance.now();
      void client.client.callAsync('bench:flood', FRAMES).catch(() => {});
      const rate = await done;
      stream.stop();
      client.connection.close();
      return rate;
    };
  } catch (err) {
    console.log(`@rocket.chat/ddp-client unavailable: ${(err as Error).message}`);
    return undefined;
  }
}

async function main(): Promise<void> {
  const { child, firstLine } = await startChild('bench/support/ddp-flood-server.ts');
  const url = `ws://127.0.0.1:${firstLine.trim()}/websocket`;
  const official = await loadOfficialClient();
  const runners: [string, Runner][] = [
    ['bare ws + JSON.parse', bare],
    ['gateway DdpClient', gateway],
  ];
  if (official) runners.push(['@rocket.chat/ddp-client', official]);
  const results = new Map<string, number[]>(runners.map(([name]) => [name, []]));
  console.log(`ddp-ingest: ${FRAMES} stream frames per run, ${ROUNDS} rounds, clients alternate`);
  for (let round = 1; round <= ROUNDS; round++) {
    const line: string[] = [];
    for (const [name, run] of runners) {
      const rate = await run(url);
      results.get(name)!.push(rate);
      line.push(`${name} ${formatRate(rate)}`);
    }
    console.log(`  round ${round}: ${line.join(' | ')}`);
  }
  const baseline = median(results.get('bare ws + JSON.parse')!);
  console.log('median frames/s and ratio to the bare client:');
  for (const [name] of runners) {
    const value = median(results.get(name)!);
    console.log(`  ${name.padEnd(26)} ${formatRate(value).padStart(9)}  ${ratio(value, baseline)}`);
  }
  child.kill('SIGTERM');
  process.exit(0);
}

void main();
