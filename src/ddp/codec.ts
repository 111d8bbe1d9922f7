/**
 * Frame codec: text frame <-> DDP message. Kept apart from the connection (as ws keeps its
 * receiver apart from the socket) so it can be tested and benchmarked without a network.
 */
import type { ServerMessage } from './messages.js';

export type DecodeResult =
  | { readonly ok: true; readonly message: ServerMessage | null }
  | { readonly ok: false; readonly error: string };

/** Text frame -> message: `decodeFrame`, or one shared by a worker's sessions (shared-frame-decoder.ts). */
export type FrameDecoder = (text: string) => DecodeResult;

/**
 * One `JSON.parse` per frame and nothing else: EJSON values are left as they are (decoded later,
 * and only where needed). Returns `message: null` for frames to ignore, such as Meteor's
 * `{"server_id":"0"}` greeting, which has no `msg`.
 */
export function decodeFrame(text: string): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, error: 'frame is not JSON' };
  }
  // SockJS-style framing, which Rocket.Chat's ddp-streamer also accepts: ["<ddp json>"].
  if (Array.isArray(parsed)) {
    const inner = parsed[0];
    if (typeof inner !== 'string') return { ok: false, error: 'array frame without a JSON string' };
    return decodeFrame(inner);
  }
  if (typeof parsed !== 'object' || parsed === null) return { ok: false, error: 'frame is not an object' };
  const msg = (parsed as { msg?: unknown }).msg;
  if (msg === undefined || msg === 'server_id') return { ok: true, message: null };
  if (typeof msg !== 'string') return { ok: false, error: 'frame has a non-string msg' };
  const problem = shapeProblem(msg, parsed as Record<string, unknown>);
  if (problem) return { ok: false, error: `${msg} frame ${problem}` };
  return { ok: true, message: parsed as ServerMessage };
}

const isString = (value: unknown): boolean => typeof value === 'string';

/**
 * The fields the connection reads without further checks, per message type. A peer (or a
 * proxy in between) that sends `{"msg":"ready","subs":3}` must get a protocol error, not a
 * TypeError thrown inside the socket's message handler, which would take the process down.
 */
function shapeProblem(msg: string, frame: Record<string, unknown>): string | undefined {
  switch (msg) {
    case 'connected':
      return isString(frame.session) ? undefined : 'without a session id';
    case 'result':
    case 'nosub':
      if (!isString(frame.id)) return 'without an id';
      return frame.error === undefined || (typeof frame.error === 'object' && frame.error !== null)
        ? undefined
        : 'with a malformed error';
    case 'ready':
      return Array.isArray(frame.subs) && frame.subs.every(isString)
        ? undefined
        : 'without a list of sub ids';
    case 'updated':
      return Array.isArray(frame.methods) ? undefined : 'without a list of method ids';
    case 'added':
    case 'changed':
    case 'removed':
      if (!isString(frame.collection)) return 'without a collection';
      return frame.fields === undefined || (typeof frame.fields === 'object' && frame.fields !== null)
        ? undefined
        : 'with malformed fields';
    case 'ping':
    case 'pong':
      return frame.id === undefined || isString(frame.id) ? undefined : 'with a non-string id';
    default:
      return undefined;
  }
}

export function encodeFrame(message: object): string {
  return JSON.stringify(message);
}
