/**
 * Rocket.Chat "streamer" fan-out (docs/simulator-protocol.md §2.1; RC streamer.module.ts).
 *
 * Subscriptions are indexed by stream and event name. An event is one DDP frame
 * `{"msg":"changed","collection":"stream-X","id":"id","fields":{"eventName","args"}}`, serialized
 * once and written to every matching subscription (a connection subscribed twice gets two copies).
 * Nothing is buffered: events emitted while nobody listens are lost, as on a real server.
 */
import { stringifyEJSON } from './ejson.js';

/** The side of a DDP connection the hub writes to. */
export interface StreamSink {
  readonly connectionId: string;
  readonly userId: string | null;
  /** `bytes`, when given, is `frame` already UTF-8 encoded (shared by every subscriber). */
  sendRaw(frame: string, bytes?: Buffer): void;
}

export interface StreamSubscription {
  readonly sink: StreamSink;
  readonly subId: string;
  readonly stream: string;
  readonly eventName: string;
}

export interface EmitOptions {
  /** The connection that caused the event; skipped, as streams have `retransmitToSelf = false`. */
  origin?: StreamSink;
}

/** Builds the frame for one subscription; returning undefined skips it. */
export type FrameForSubscription = (sub: StreamSubscription) => string | undefined;

export function streamFrame(stream: string, eventName: string, args: readonly unknown[]): string {
  return stringifyEJSON({ msg: 'changed', collection: stream, id: 'id', fields: { eventName, args } });
}

export class StreamHub {
  private readonly index = new Map<string, Set<StreamSubscription>>();

  add(sub: StreamSubscription): void {
    const key = this.key(sub.stream, sub.eventName);
    let set = this.index.get(key);
    if (!set) {
      set = new Set();
      this.index.set(key, set);
    }
    set.add(sub);
  }

  remove(sub: StreamSubscription): void {
    const key = this.key(sub.stream, sub.eventName);
    const set = this.index.get(key);
    if (set?.delete(sub) && set.size === 0) {
      this.index.delete(key);
    }
  }

  subscriptions(stream: string, eventName: string): StreamSubscription[] {
    return [...(this.index.get(this.key(stream, eventName)) ?? [])];
  }

  hasSubscribers(stream: string, eventName: string): boolean {
    return (this.index.get(this.key(stream, eventName))?.size ?? 0) > 0;
  }

  /** Sends `args` to every subscriber of `stream`/`eventName`; the frame is serialized once. */
  emit(stream: string, eventName: string, args: readonly unknown[], options: EmitOptions = {}): number {
    const set = this.index.get(this.key(stream, eventName));
    if (!set || set.size === 0) {
      return 0;
    }
    const frame = streamFrame(stream, eventName, args);
    // Encode once; ws would otherwise convert the string again for every subscriber.
    const bytes = set.size > 1 ? Buffer.from(frame, 'utf8') : undefined;
    let sent = 0;
    for (const sub of set) {
      if (options.origin && sub.sink === options.origin) {
        continue;
      }
      sub.sink.sendRaw(frame, bytes);
      sent += 1;
    }
    return sent;
  }

  /** Like `emit`, but each subscription gets its own frame (e.g. a per-user permission result). */
  emitEach(stream: string, eventName: string, frameFor: FrameForSubscription): number {
    const set = this.index.get(this.key(stream, eventName));
    if (!set) {
      return 0;
    }
    let sent = 0;
    for (const sub of [...set]) {
      const frame = frameFor(sub);
      if (frame !== undefined) {
        sub.sink.sendRaw(frame);
        sent += 1;
      }
    }
    return sent;
  }

  /** Drops subscriptions silently (no frame), e.g. a room's messages after the user left it. */
  detach(predicate: (sub: StreamSubscription) => boolean): StreamSubscription[] {
    const removed: StreamSubscription[] = [];
    for (const set of this.index.values()) {
      for (const sub of set) {
        if (predicate(sub)) {
          removed.push(sub);
        }
      }
    }
    for (const sub of removed) {
      this.remove(sub);
    }
    return removed;
  }

  private key(stream: string, eventName: string): string {
    return `${stream}\u0000${eventName}`;
  }
}
