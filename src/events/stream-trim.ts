/**
 * What trimming took from a user's event log, as far as Redis can tell: the answers behind the
 * SSE `gap` event (a resume after an id) and the `truncated` flag of the `history` event (a
 * replay from a time). Trimming removes the oldest entries, so lost ones lie before the first
 * kept entry; Redis does not record the id of the last entry trimmed (`max-deleted-entry-id`
 * tracks XDEL only), so the answers are conservative: the one false alarm (a reader positioned
 * exactly at the last trimmed entry) is safe, a missed loss would not be.
 */
import type { RedisClient } from '../redis/connection.js';
import { LuaScript } from '../redis/lua-script.js';
import { compareStreamIds } from './stream-id.js';

// KEYS, ARGV and reply: see the header of each file.
const STREAM_INFO_SCRIPT = LuaScript.fromFile(import.meta.url, './stream-trim/stream-info.lua', 1);

interface TrimInfo {
  /** Entries were ever trimmed (more were added than the stream holds). */
  readonly wasTrimmed: boolean;
  readonly firstId: string | undefined;
  readonly lastGeneratedId: string | undefined;
}

/** Whether a reader positioned at `afterId` (exclusive) has lost events to trimming. */
export async function hasGapAfter(redis: RedisClient, key: string, afterId: string): Promise<boolean> {
  const info = await trimInfo(redis, key);
  if (!info?.wasTrimmed) return false;
  if (!info.firstId) return true;
  return compareStreamIds(afterId, info.firstId) < 0;
}

/**
 * Whether trimming removed entries at or after `startId` (inclusive): anything trimmed, and
 * `startId` before the first kept entry (or, for a log trimmed empty, not after the last id it
 * ever gave: a start in the future lost nothing).
 */
export async function wasTrimmedFrom(redis: RedisClient, key: string, startId: string): Promise<boolean> {
  const info = await trimInfo(redis, key);
  if (!info?.wasTrimmed) return false;
  if (info.firstId) return compareStreamIds(startId, info.firstId) < 0;
  return info.lastGeneratedId === undefined || compareStreamIds(startId, info.lastGeneratedId) <= 0;
}

async function trimInfo(redis: RedisClient, key: string): Promise<TrimInfo | undefined> {
  const info = await STREAM_INFO_SCRIPT.run<unknown[] | null>(redis, [key], []);
  if (!info) return undefined;
  const field = (name: string): unknown => {
    for (let i = 0; i < info.length; i += 2) if (info[i] === name) return info[i + 1];
    return undefined;
  };
  const length = Number(field('length'));
  const added = field('entries-added');
  // Before Redis 7.0 there is no count of entries ever added: assume trimming happened.
  const wasTrimmed = added === undefined ? true : Number(added) > length;
  const first = field('first-entry') as [string, unknown] | null | undefined;
  const lastGenerated = field('last-generated-id');
  return {
    wasTrimmed,
    firstId: first ? first[0] : undefined,
    lastGeneratedId: typeof lastGenerated === 'string' ? lastGenerated : undefined,
  };
}
