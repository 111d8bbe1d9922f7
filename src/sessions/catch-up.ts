/**
 * Catch-up: Rocket.Chat never replays stream events, so after a reconnect or a takeover the
 * gateway asks what changed in the subscribed rooms while nobody listened
 * (`chat.syncMessages?lastUpdate=`, which reports new, edited and deleted messages by
 * `_updatedAt`/`_deletedAt`; `loadMissedMessages` would miss edits and deletions).
 */
import type { Downtime } from '../ddp/index.js';
import type { EventLog } from '../events/event-log.js';
import { parseStreamId } from '../events/stream-id.js';
import type { Topic } from '../events/topics.js';
import type { NewGatewayEvent } from '../events/types.js';
import { normalizeSyncedDeletion, normalizeSyncedMessage } from '../rocketchat/normalize.js';
import type { RocketChatRestClient } from '../rocketchat/rest-client.js';

/**
 * Rooms with no watermark start this far before the outage began: our clock and Rocket.Chat's
 * may disagree, and a duplicate costs nothing (the log drops it) while a miss loses a message.
 */
export const CLOCK_SKEW_MARGIN_MS = 60_000;

const PARALLEL_ROOMS = 4;

export interface CatchUpInput {
  readonly userId: string;
  readonly token: string;
  readonly topics: readonly Topic[];
  readonly eventLog: EventLog;
  readonly rest: RocketChatRestClient;
  /** A DDP call over the user's session (for `rooms/get` when the topic is every room). */
  readonly call: (method: string, params: readonly unknown[]) => Promise<unknown>;
  /** The outage, after a reconnect; undefined on a fresh start or a takeover. */
  readonly downtime: Downtime | undefined;
  readonly now: number;
}

/** The events missed in the subscribed rooms, oldest change first. */
export async function catchUp(input: CatchUpInput): Promise<NewGatewayEvent[]> {
  const roomIds = await roomsToCheck(input);
  if (roomIds.length === 0) return [];
  const watermarks = await input.eventLog.roomWatermarks(input.userId);
  const fallbackSince = await fallbackStart(input);
  const results: { atMs: number; event: NewGatewayEvent }[] = [];
  const queue = [...roomIds];
  const worker = async (): Promise<void> => {
    for (let rid = queue.shift(); rid !== undefined; rid = queue.shift()) {
      const since = watermarks.get(rid) ?? fallbackSince;
      if (since === undefined) continue;
      const synced = await input.rest.syncMessages({ userId: input.userId, token: input.token }, rid, since);
      // The normalizer has already read each change's time (`_updatedAt`, else `ts`; `_deletedAt`,
      // else 0) into `dedupe.updatedAtMs`, in either date form: order by that.
      for (const message of synced.updated) {
        const event = normalizeSyncedMessage(message, input.userId, input.now, since);
        if (event) results.push({ atMs: event.dedupe?.updatedAtMs ?? 0, event });
      }
      for (const deletion of synced.deleted) {
        const event = normalizeSyncedDeletion(deletion, rid, input.userId, input.now);
        if (event) results.push({ atMs: event.dedupe?.updatedAtMs ?? 0, event });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_ROOMS, roomIds.length) }, worker));
  results.sort((a, b) => a.atMs - b.atMs);
  return results.map((r) => r.event);
}

async function roomsToCheck(input: CatchUpInput): Promise<string[]> {
  const rooms = new Set<string>();
  let everyRoom = false;
  for (const topic of input.topics) {
    if (topic.kind === 'room') rooms.add(topic.roomId);
    else if (topic.kind === 'rooms') everyRoom = true;
  }
  if (everyRoom) {
    const list = await input.call('rooms/get', []);
    for (const room of Array.isArray(list) ? (list as unknown[]) : []) {
      // `room?._id`: an item may be null in a reply of the wrong shape.
      const id = (room as { _id?: unknown } | null | undefined)?._id;
      if (typeof id === 'string' && id !== '') rooms.add(id);
    }
  }
  return [...rooms];
}

/**
 * Where to start for a room the log has no watermark for: the start of the outage, or, after a
 * takeover (no outage known to this process), the time of the newest logged event. Undefined
 * when nothing was ever logged for the user: a first session has nothing to catch up on.
 */
async function fallbackStart(input: CatchUpInput): Promise<number | undefined> {
  if (input.downtime) return input.downtime.fromMs - CLOCK_SKEW_MARGIN_MS;
  const lastId = await input.eventLog.lastId(input.userId);
  const parsed = lastId ? parseStreamId(lastId) : undefined;
  return parsed ? parsed.ms - CLOCK_SKEW_MARGIN_MS : undefined;
}
