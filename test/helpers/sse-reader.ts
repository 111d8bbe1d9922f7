/**
 * A plain SSE reader over fetch, for tests that must see the first answer as it is (a browser's
 * EventSource treats any non-200 as final) and control resumption themselves.
 */

export interface SseEvent {
  readonly id: string;
  readonly event: string;
  readonly data: string;
}

export interface SseReader {
  readonly status: number;
  /** The error body when the status is not 200. */
  readonly body: unknown;
  /** Every event received so far, in order. */
  readonly events: SseEvent[];
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string>): Promise<SseReader> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  const events: SseEvent[] = [];
  if (response.status !== 200) {
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, events, close: () => {} };
  }
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = { id: '', event: 'message', data: [] as string[] };
          for (const line of frame.split('\n')) {
            if (line.startsWith('id: ')) fields.id = line.slice(4);
            else if (line.startsWith('event: ')) fields.event = line.slice(7);
            else if (line.startsWith('data: ')) fields.data.push(line.slice(6));
          }
          if (fields.data.length > 0)
            events.push({ id: fields.id, event: fields.event, data: fields.data.join('\n') });
        }
      }
    } catch {
      // Aborted by close(), or the server went away: the events so far stay readable.
    }
  })();
  return { status: 200, body: undefined, events, close: () => controller.abort() };
}
