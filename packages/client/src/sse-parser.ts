/**
 * An incremental `text/event-stream` parser, per the WHATWG HTML spec ("Server-sent events",
 * interpreting an event stream): lines end in CRLF, LF or CR; `:` starts a comment (the gateway's
 * heartbeats); a blank line dispatches; `data` lines join with LF; an `id` containing NUL is
 * ignored; `retry` takes digits only. Chunks may split anywhere, a CRLF included.
 */

export interface SseFrame {
  /** `message` when the frame named none. */
  readonly event: string;
  readonly data: string;
  /** The last event id after this frame (ids persist across frames, as in EventSource). */
  readonly id: string | undefined;
}

export class SseParser {
  readonly #decoder = new TextDecoder();
  #buffer = '';
  /** The previous chunk ended in CR: an LF starting the next one belongs to it. */
  #skipLeadingLf = false;
  #event = '';
  #data: string[] = [];
  #hasData = false;
  /** Characters of `data` gathered for the frame being read. */
  #pendingData = 0;
  #lastEventId: string | undefined;
  /** The reconnection delay the server asked for, if any. */
  retryMs: number | undefined;

  readonly #maxPendingChars: number;

  /**
   * @param lastEventId The id the stream resumes after (what `id` frames then replace).
   * @param maxPendingChars A line (or a frame's data) longer than this is refused, so a broken or
   *   hostile peer cannot grow memory without bound. @defaultValue 16777216 (16 Mi characters)
   */
  constructor(lastEventId?: string, maxPendingChars = 16 * 1024 * 1024) {
    this.#lastEventId = lastEventId;
    this.#maxPendingChars = maxPendingChars;
  }

  /** Feeds bytes; returns the frames they completed. */
  push(chunk: Uint8Array): SseFrame[] {
    let text = this.#decoder.decode(chunk, { stream: true });
    if (this.#skipLeadingLf && text.startsWith('\n')) text = text.slice(1);
    this.#skipLeadingLf = false;
    this.#buffer += text;
    const frames: SseFrame[] = [];
    for (;;) {
      const end = this.#buffer.search(/[\r\n]/);
      if (end < 0) break;
      const line = this.#buffer.slice(0, end);
      let next = end + 1;
      if (this.#buffer[end] === '\r') {
        if (end + 1 === this.#buffer.length) this.#skipLeadingLf = true;
        else if (this.#buffer[end + 1] === '\n') next++;
      }
      this.#buffer = this.#buffer.slice(next);
      const frame = this.#line(line);
      if (frame) frames.push(frame);
    }
    if (this.#buffer.length + this.#pendingData > this.#maxPendingChars) {
      throw new RangeError(`an SSE frame exceeds ${this.#maxPendingChars} characters`);
    }
    return frames;
  }

  #line(line: string): SseFrame | undefined {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.#event = value;
        break;
      case 'data':
        this.#data.push(value);
        this.#pendingData += value.length;
        this.#hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.#lastEventId = value === '' ? undefined : value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
    }
    return undefined;
  }

  #dispatch(): SseFrame | undefined {
    const frame = this.#hasData
      ? { event: this.#event || 'message', data: this.#data.join('\n'), id: this.#lastEventId }
      : undefined;
    this.#event = '';
    this.#data = [];
    this.#pendingData = 0;
    this.#hasData = false;
    return frame;
  }
}
