/**
 * Redis Stream entry ids (`<ms>-<seq>`), which are the gateway's event ids. They order events
 * and are compared often (replay seams, gap checks), so parsing stays allocation-light.
 */
export interface StreamId {
  readonly ms: number;
  readonly seq: number;
}

const STREAM_ID = /^(\d{1,16})-(\d{1,16})$/;

/** Parses `<ms>-<seq>`; anything else (including CR/LF smuggled into a Last-Event-ID) is undefined. */
export function parseStreamId(value: string): StreamId | undefined {
  const match = STREAM_ID.exec(value);
  if (!match) return undefined;
  const ms = Number(match[1]);
  const seq = Number(match[2]);
  if (!Number.isSafeInteger(ms) || !Number.isSafeInteger(seq)) return undefined;
  return { ms, seq };
}

export function isValidStreamId(value: string): boolean {
  return parseStreamId(value) !== undefined;
}

/** Negative when a < b, zero when equal, positive when a > b. Both must be valid ids. */
export function compareStreamIds(a: string, b: string): number {
  const x = parseStreamId(a);
  const y = parseStreamId(b);
  if (!x || !y) throw new RangeError(`not a stream id: ${x ? b : a}`);
  return x.ms - y.ms || x.seq - y.seq;
}
