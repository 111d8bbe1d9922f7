/**
 * SSE framing (WHATWG HTML, "Server-sent events"). `id` and `event` are written verbatim, so a
 * CR or LF in them would let a value inject fields of its own (CWE-93): they are refused, not
 * escaped. `data` is split on line breaks into several `data:` lines, which the client rejoins.
 */
const LINE_BREAK = /\r\n|\r|\n/;

export function assertFieldValue(name: string, value: string): void {
  if (/[\r\n]/.test(value)) throw new RangeError(`SSE ${name} must not contain CR or LF`);
}

export function formatEvent(fields: { id?: string; event?: string; data: string }): string {
  let frame = '';
  if (fields.id !== undefined) {
    assertFieldValue('id', fields.id);
    frame += `id: ${fields.id}\n`;
  }
  if (fields.event !== undefined) {
    assertFieldValue('event', fields.event);
    frame += `event: ${fields.event}\n`;
  }
  for (const line of fields.data.split(LINE_BREAK)) frame += `data: ${line}\n`;
  return `${frame}\n`;
}

/** A comment line: ignored by clients, keeps proxies from timing the stream out. */
export const HEARTBEAT_FRAME = ':\n\n';

export function formatRetry(retryMs: number): string {
  return `retry: ${Math.max(0, Math.floor(retryMs))}\n\n`;
}

const frameCache = new WeakMap<object, string>();

/**
 * The frame of a logged event: live events bring theirs (built once by the append script);
 * replayed ones get one built once per event per process however many clients receive it. The
 * envelope JSON never contains a raw line break (JSON.stringify escapes them), so it is one
 * `data:` line and ids/types come from the log (valid by construction).
 */
export function eventFrame(event: {
  readonly id: string;
  readonly type: string;
  readonly json: string;
  readonly frame?: string;
}): string {
  if (event.frame !== undefined) return event.frame;
  let frame = frameCache.get(event);
  if (frame === undefined) {
    frame = `id: ${event.id}\nevent: ${event.type}\ndata: ${event.json}\n\n`;
    frameCache.set(event, frame);
  }
  return frame;
}
