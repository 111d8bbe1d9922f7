/**
 * Outbound frame queue of one connection. Without a delay fault frames are written at once; with
 * `delayMs > 0` each frame is held for that long, in order (a later frame never overtakes).
 */

export class Outbox {
  private readonly queue: { at: number; data: string; bytes: Buffer | undefined }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly write: (data: string, bytes?: Buffer) => void,
    private readonly delayMs: () => number,
  ) {}

  send(data: string, bytes?: Buffer): void {
    if (this.closed) {
      return;
    }
    const delay = this.delayMs();
    if (delay <= 0 && this.queue.length === 0) {
      this.write(data, bytes);
      return;
    }
    this.queue.push({ at: Date.now() + Math.max(0, delay), data, bytes });
    this.schedule();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  private schedule(): void {
    const head = this.queue[0];
    if (this.timer || !head) {
      return;
    }
    this.timer = setTimeout(() => this.flush(), Math.max(0, head.at - Date.now()));
  }

  private flush(): void {
    this.timer = undefined;
    const now = Date.now();
    while (this.queue.length > 0 && (this.queue[0]?.at ?? 0) <= now) {
      const item = this.queue.shift();
      if (item) {
        this.write(item.data, item.bytes);
      }
    }
    this.schedule();
  }
}
