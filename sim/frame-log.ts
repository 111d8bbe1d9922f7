/**
 * A bounded ring buffer of recent DDP frames, for tests that assert on the wire
 * (`GET /sim/frames`). Entries keep a reference to the frame string: no copy per subscriber.
 */

export type FrameDirection = 'in' | 'out';

export interface FrameRecord {
  seq: number;
  at: number;
  direction: FrameDirection;
  connectionId: string;
  data: string;
}

export interface FrameFilter {
  direction?: FrameDirection;
  connectionId?: string;
  /** Only frames whose text contains this substring. */
  contains?: string;
  /** Most recent N matching frames (oldest first). @defaultValue 100 */
  limit?: number;
}

export class FrameLog {
  private readonly buffer: (FrameRecord | undefined)[];
  private next = 0;
  private seq = 0;
  private readonly totals = { in: 0, out: 0 };

  constructor(private readonly capacity = 10_000) {
    this.buffer = new Array(capacity);
  }

  record(direction: FrameDirection, connectionId: string, data: string): void {
    this.seq += 1;
    this.totals[direction] += 1;
    this.buffer[this.next] = { seq: this.seq, at: Date.now(), direction, connectionId, data };
    this.next = (this.next + 1) % this.capacity;
  }

  counts(): { in: number; out: number } {
    return { ...this.totals };
  }

  query(filter: FrameFilter = {}): FrameRecord[] {
    const limit = filter.limit ?? 100;
    const out: FrameRecord[] = [];
    for (let i = 1; i <= this.capacity && out.length < limit; i += 1) {
      const record = this.buffer[(this.next - i + this.capacity) % this.capacity];
      if (!record) {
        break;
      }
      if (filter.direction && record.direction !== filter.direction) {
        continue;
      }
      if (filter.connectionId && record.connectionId !== filter.connectionId) {
        continue;
      }
      if (filter.contains && !record.data.includes(filter.contains)) {
        continue;
      }
      out.push(record);
    }
    return out.reverse();
  }

  clear(): void {
    this.buffer.fill(undefined);
    this.next = 0;
  }
}
