/**
 * A bounded Redis LIST, newest first, whose entries are numbered for cursors: a counter in a
 * HASH field counts the pushes, so the entry pushed as number s sits at index (counter - s).
 * New entries push at the head and trimming cuts only the tail, so a number keeps naming the
 * same entry while others arrive, and "the page before number s" stays the same page. Used by
 * the webhook attempt history (whose push lives in the delivery ledger's finish script) and the
 * incoming hooks' recent requests.
 */
import type { RedisClient } from './connection.js';
import { LuaScript } from './lua-script.js';

// KEYS, ARGV and reply: see the header of each file.
const PUSH_SCRIPT = LuaScript.fromFile(import.meta.url, './numbered-list/push.lua', 2);

const READ_SCRIPT = LuaScript.fromFile(import.meta.url, './numbered-list/read.lua', 2);

export interface NumberedEntry {
  /** 1 for the first entry ever pushed. */
  readonly seq: number;
  readonly raw: string;
}

/** Pushes `entry` at the head, numbers it, and keeps the newest `bound` (unless `hashKey` is gone). */
export async function pushNumbered(
  redis: RedisClient,
  hashKey: string,
  counterField: string,
  listKey: string,
  entry: string,
  bound: number,
): Promise<void> {
  await PUSH_SCRIPT.run(redis, [hashKey, listKey], [counterField, entry, bound]);
}

/** Every kept entry older than number `beforeSeq` (all when undefined), newest first. */
export async function readNumbered(
  redis: RedisClient,
  hashKey: string,
  counterField: string,
  listKey: string,
  beforeSeq: number | undefined,
): Promise<NumberedEntry[]> {
  const reply = await READ_SCRIPT.run<(number | string)[]>(
    redis,
    [hashKey, listKey],
    [counterField, beforeSeq === undefined ? '' : beforeSeq],
  );
  const counter = Number(reply[0]);
  const start = Number(reply[1]);
  const entries: NumberedEntry[] = [];
  for (const [i, raw] of reply.slice(2).entries()) {
    const seq = counter - (start + i);
    if (seq <= 0) break;
    entries.push({ seq, raw: String(raw) });
  }
  return entries;
}
