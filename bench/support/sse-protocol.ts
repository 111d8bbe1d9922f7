/**
 * What bench/sse-fanout.bench.ts and its child processes (sse-server.ts, sse-clients.ts) say to
 * each other over IPC, and the event they all send: the gateway's own envelope shape, with the
 * sender's clock in `data.sentAt` (`monotonicNow()`) for the latency.
 */
export interface BenchEnvelope {
  readonly id: string;
  readonly type: 'message.created';
  readonly userId: string;
  readonly roomId: string;
  readonly ts: string;
  readonly data: {
    readonly _id: string;
    readonly rid: string;
    readonly msg: string;
    readonly sentAt: number;
  };
}

export const BENCH_USER_ID = 'benchUser00000001';

export function benchEnvelope(id: string, msg: string, sentAt: number): BenchEnvelope {
  return {
    id,
    type: 'message.created',
    userId: BENCH_USER_ID,
    roomId: 'GENERAL',
    ts: new Date().toISOString(),
    data: { _id: `m${id.replace('-', '')}`, rid: 'GENERAL', msg, sentAt },
  };
}

/**
 * Now, in ms with sub-millisecond precision, comparable across processes: the monotonic clock
 * (CLOCK_MONOTONIC) is the machine's, while each process's `performance.timeOrigin` is taken at
 * its own start and disagrees with another's by milliseconds.
 */
export function monotonicNow(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export type ServerCommand =
  | { readonly op: 'connections' }
  | { readonly op: 'memory' }
  /** The RSS as it is, with no collection forced. */
  | { readonly op: 'rss' }
  | { readonly op: 'broadcast'; readonly count: number; readonly ratePerSecond: number };

export type ServerReply =
  | { readonly op: 'ready'; readonly port: number }
  | { readonly op: 'connections'; readonly count: number }
  | {
      readonly op: 'memory';
      /** After two full collections, as `heapUsed`. */
      readonly rss: number;
      /** Before them: what the process held with nothing forced. */
      readonly rssAsFound: number;
      readonly heapUsed: number;
      readonly external: number;
    }
  | { readonly op: 'rss'; readonly rss: number }
  | { readonly op: 'broadcasted' };

/**
 * Where the latency clock starts: `sentAt` in the envelope's data (bench senders, on the
 * monotonic clock), or the wall-clock time the bench wrote at the end of a Rocket.Chat message's
 * text (`... @<ms>`). Not the message's own `ts`: the simulator's clock runs ahead of the wall
 * clock after a flood (sim/clock.ts), which showed as negative latencies.
 */
export type LatencySource = 'sentAt' | 'message-text' | 'none';

export type ClientCommand =
  | {
      readonly op: 'open';
      readonly url: string;
      readonly count: number;
      readonly headers: Readonly<Record<string, string>>;
    }
  | { readonly op: 'measure'; readonly perConnection: number; readonly latency: LatencySource }
  | { readonly op: 'status' }
  | { readonly op: 'close' };

export interface Measurement {
  /** `message.created` frames received since `measure`, over every connection. */
  readonly frames: number;
  /** When the first and the last of them arrived (`monotonicNow()`). */
  readonly firstAt: number;
  readonly lastAt: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export type ClientReply =
  | { readonly op: 'ready' }
  | { readonly op: 'opened'; readonly open: number; readonly failed: number; readonly firstError?: string }
  | { readonly op: 'measuring' }
  | { readonly op: 'measured'; readonly result: Measurement }
  | { readonly op: 'status'; readonly open: number; readonly result: Measurement }
  | { readonly op: 'closed' };
