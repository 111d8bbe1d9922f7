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

/**
 * KEYS: hash, list. ARGV: counter field, entry, bound. Nothing when the hash is gone (its owner
 * was deleted meanwhile: no stray keys). A counter missing beside a non-empty list (data from
 * before numbering) starts at what the list holds.
 */
const PUSH_SCRIPT = new LuaScript(
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local length = redis.call('LPUSH', KEYS[2], ARGV[2])
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then redis.call('HSET', KEYS[1], ARGV[1], length - 1) end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
return length
`,
  2,
);

/** KEYS: hash, list. ARGV: counter field, number to read before ('' for the newest). */
const READ_SCRIPT = new LuaScript(
  `
local seq = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local start = 0
if ARGV[2] ~= '' then start = seq - tonumber(ARGV[2]) + 1 end
if start < 0 then start = 0 end
local out = {seq, start}
for _, entry in ipairs(redis.call('LRANGE', KEYS[2], start, -1)) do table.insert(out, entry) end
return out
`,
  2,
);

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
