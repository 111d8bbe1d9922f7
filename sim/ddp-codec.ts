/**
 * Inbound DDP frame parsing. Meteor's `DDPCommon.parseDDP` returns null for invalid JSON and for
 * non-objects, which the server answers with `{"msg":"error","reason":"Bad request"}`.
 * RC's ddp-streamer also accepts SockJS-style array framing `["<ddp json>"]` (element 0 only).
 */

export type ParsedFrame =
  | { kind: 'message'; msg: Record<string, unknown> & { msg: string } }
  /** Valid JSON object without a string `msg` (Meteor: "Bad request" with offendingMessage). */
  | { kind: 'no-msg'; value: Record<string, unknown> }
  /** Not JSON (`notJson`), or JSON that is not an object (Meteor: "Bad request" without offendingMessage). */
  | { kind: 'invalid'; notJson: boolean };

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function parseFrame(text: string): ParsedFrame {
  let value = parseJson(text);
  let notJson = value === undefined;
  if (Array.isArray(value)) {
    const first: unknown = value[0];
    value = typeof first === 'string' ? parseJson(first) : first;
    notJson = typeof first === 'string' && value === undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { kind: 'invalid', notJson };
  }
  const obj = value as Record<string, unknown>;
  if (typeof obj['msg'] !== 'string' || obj['msg'] === '') {
    return { kind: 'no-msg', value: obj };
  }
  return { kind: 'message', msg: obj as Record<string, unknown> & { msg: string } };
}
