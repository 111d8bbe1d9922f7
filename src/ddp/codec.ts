/**
 * Frame codec: text frame <-> DDP message. Kept apart from the connection (as ws keeps its
 * receiver apart from the socket) so it can be tested and benchmarked without a network.
 */
import type { ServerMessage } from './messages.js';

export type DecodeResult =
  | { readonly ok: true; readonly message: ServerMessage | null }
  | { readonly ok: false; readonly error: string };

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
  return { ok: true, message: parsed as ServerMessage };
}

export function encodeFrame(message: object): string {
  return JSON.stringify(message);
}
