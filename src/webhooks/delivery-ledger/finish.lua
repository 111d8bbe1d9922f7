-- KEYS: inflight, attempts, record, dead, dead bodies, pending, the user's webhook version.
-- ARGV: member, attempt JSON, max attempts, kind, event id, event time, dead body JSON, max dead,
--       disable after, now, error, status code ('' when none).
-- F: the webhook record's field names (WEBHOOK_FIELDS, webhook-store.ts).
-- Returns {consecutive failures, disabled reason or ''}.
--- @include "./trim-dead.lua"
redis.call('ZREM', KEYS[1], ARGV[1])
-- Every record field the bookkeeping depends on, in one read; the script runs alone, so writing
-- back what it read plus one is an increment. No url: the webhook is gone (as begin.lua reads it).
local rec = redis.call('HMGET', KEYS[3], F.url, F.attemptSeq, F.failures, F.okCount, F.failCount, F.status)
if not rec[1] then return {0, ''} end
-- Trimmed back to the bound only once it is twice over: one LTRIM per bound pushes, not per push.
local length = redis.call('LPUSH', KEYS[2], ARGV[2])
if length > 2 * tonumber(ARGV[3]) then
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
end
-- attemptSeq numbers the list for cursors, as src/redis/numbered-list.ts reads it (a record
-- from before it counts what the list held).
local seq = (tonumber(rec[2]) or (length - 1)) + 1
local kind = ARGV[4]
if kind ~= 'retry' then redis.call('ZREM', KEYS[6], ARGV[1]) end
if kind == 'ok' then
  redis.call('HSET', KEYS[3], F.attemptSeq, seq, F.okCount, (tonumber(rec[4]) or 0) + 1,
    F.lastOkAtMs, ARGV[10], F.failures, '0')
  return {0, ''}
end
local failures = tonumber(rec[3]) or 0
local fields = {F.attemptSeq, seq, F.failCount, (tonumber(rec[5]) or 0) + 1,
  F.lastErrAtMs, ARGV[10], F.lastError, ARGV[11], F.lastErrStatus, ARGV[12]}
if kind == 'retry' then
  redis.call('HSET', KEYS[3], unpack(fields))
  return {failures, ''}
end
redis.call('ZADD', KEYS[4], ARGV[6], ARGV[5])
redis.call('HSET', KEYS[5], ARGV[5], ARGV[7])
trimDead(KEYS[4], KEYS[5], tonumber(ARGV[8]))
failures = failures + 1
local limit = tonumber(ARGV[9])
local reason = ''
if kind == 'gone' then reason = 'gone' elseif limit > 0 and failures >= limit then reason = 'failures' end
local n = #fields
fields[n + 1] = F.failures
fields[n + 2] = failures
if reason ~= '' and rec[6] == 'enabled' then
  fields[n + 3] = F.status
  fields[n + 4] = 'disabled'
  fields[n + 5] = F.disabledReason
  fields[n + 6] = reason
  fields[n + 7] = F.disabledAtMs
  fields[n + 8] = ARGV[10]
  redis.call('HSET', KEYS[3], unpack(fields))
  redis.call('INCR', KEYS[7])
  return {failures, reason}
end
redis.call('HSET', KEYS[3], unpack(fields))
return {failures, ''}
