/**
 * The SSE clients of bench/sse-fanout.bench.ts: many connections opened with plain `node:http`
 * (no EventSource library in the way), in a process of their own. Each counts its
 * `event: message.created` frames and, when asked, reads the sender's clock out of each frame for
 * the latency. Controlled over IPC (see `ClientCommand`).
 *
 * Usage: node --import tsx bench/support/sse-clients.ts
 */
import { Agent, type ClientRequest, get, type IncomingMessage } from 'node:http';
import {
  type ClientCommand,
  type ClientReply,
  type LatencySource,
  type Measurement,
  monotonicNow,
} from './sse-protocol.js';
import { percentile } from './stats.js';

const FIELD = '\nevent:';
const TYPE = 'message.created\n';
const OPEN_CONCURRENCY = 100;

interface Connection {
  readonly request: ClientRequest;
  response: IncomingMessage | undefined;
  /** The incomplete frame at the end of the last chunk. */
  carry: string;
}

const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
const connections: Connection[] = [];
const send = (reply: ClientReply): void => {
  process.send?.(reply);
};

let measuring:
  | {
      expected: number;
      frames: number;
      firstAt: number;
      lastAt: number;
      latency: LatencySource;
      samples: Float64Array;
    }
  | undefined;

function sentAtOf(text: string, from: number, source: LatencySource): number {
  if (source === 'sentAt') {
    const at = text.indexOf('"sentAt":', from);
    return at < 0 ? Number.NaN : Number.parseFloat(text.slice(at + 9, at + 40));
  }
  // `"msg":"... @<ms>"` inside the envelope's `data`: the sender's wall-clock time.
  const data = text.indexOf('"data":{', from);
  const msg = data < 0 ? -1 : text.indexOf('"msg":"', data);
  const end = msg < 0 ? -1 : text.indexOf('"', msg + 7);
  const mark = end < 0 ? -1 : text.lastIndexOf('@', end);
  return mark < msg ? Number.NaN : Number.parseFloat(text.slice(mark + 1, end));
}

function onChunk(connection: Connection, chunk: string): void {
  // The leading line break makes a frame's first line look like every other (`\nevent:`).
  const text = `\n${connection.carry}${chunk}`;
  const end = text.lastIndexOf('\n\n');
  if (end < 0) {
    connection.carry = text.slice(1);
    return;
  }
  connection.carry = text.slice(end + 2);
  const state = measuring;
  if (!state) return;
  const now = monotonicNow();
  // The time in a message's text is wall-clock time: compare it with the wall clock.
  const latencyNow = state.latency === 'message-text' ? Date.now() : now;
  // A field line is `event:` then one optional space (the SSE spec; better-sse writes none).
  for (let at = text.indexOf(FIELD); at !== -1 && at < end; at = text.indexOf(FIELD, at + FIELD.length)) {
    const value = at + FIELD.length + (text.charCodeAt(at + FIELD.length) === 32 ? 1 : 0);
    if (!text.startsWith(TYPE, value)) continue;
    if (state.frames === 0) state.firstAt = now;
    state.lastAt = now;
    if (state.latency !== 'none')
      state.samples[state.frames] = latencyNow - sentAtOf(text, at, state.latency);
    state.frames++;
  }
  if (state.frames >= state.expected) {
    measuring = undefined;
    send({ op: 'measured', result: summarize(state) });
  }
}

function summarize(state: NonNullable<typeof measuring>): Measurement {
  const samples = state.latency === 'none' ? [] : Array.from(state.samples.subarray(0, state.frames));
  return {
    frames: state.frames,
    firstAt: state.firstAt,
    lastAt: state.lastAt,
    p50Ms: percentile(samples, 50),
    p99Ms: percentile(samples, 99),
  };
}

function openOne(url: string, headers: Readonly<Record<string, string>>): Promise<string | undefined> {
  return new Promise((resolve) => {
    const request = get(url, { agent, headers: { accept: 'text/event-stream', ...headers } });
    const connection: Connection = { request, response: undefined, carry: '' };
    request.once('response', (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        resolve(`HTTP ${response.statusCode}`);
        return;
      }
      connection.response = response;
      connections.push(connection);
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => onChunk(connection, chunk));
      response.on('error', () => {});
      resolve(undefined);
    });
    request.once('error', (err) => resolve(err.message));
  });
}

async function open(url: string, count: number, headers: Readonly<Record<string, string>>): Promise<void> {
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      const error = await openOne(url, headers);
      if (error) {
        failed++;
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, count) }, worker));
  send({ op: 'opened', open: connections.length, failed, ...(firstError ? { firstError } : {}) });
}

async function closeAll(): Promise<void> {
  const closing = connections.splice(0).map(
    (connection) =>
      new Promise<void>((resolve) => {
        const socket = connection.request.socket;
        if (!socket || socket.destroyed) {
          resolve();
          return;
        }
        socket.once('close', () => resolve());
        connection.request.destroy();
      }),
  );
  await Promise.all(closing);
  send({ op: 'closed' });
}

process.on('message', (command: ClientCommand) => {
  if (command.op === 'open') void open(command.url, command.count, command.headers);
  else if (command.op === 'measure') {
    const expected = command.perConnection * connections.length;
    measuring = {
      expected,
      frames: 0,
      firstAt: 0,
      lastAt: 0,
      latency: command.latency,
      samples: new Float64Array(command.latency === 'none' ? 0 : expected),
    };
    send({ op: 'measuring' });
  } else if (command.op === 'status') {
    const empty = { expected: 0, frames: 0, firstAt: 0, lastAt: 0, latency: 'none' as const };
    send({
      op: 'status',
      open: connections.length,
      result: summarize({ ...empty, samples: new Float64Array(0), ...measuring }),
    });
  } else if (command.op === 'close') void closeAll();
});
process.on('disconnect', () => process.exit(0));
send({ op: 'ready' });
