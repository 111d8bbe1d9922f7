-- KEYS: inflight, attempts, record, dead, dead bodies, pending.
-- ARGV: member, attempt JSON, max attempts, kind, event id, event time, dead body JSON, max dead,
--       disable after, now, error, status code ('' when none).
-- F: the webhook record's field names (WEBHOOK_FIELDS, webhook-store.ts).
-- Returns {consecutive failures, disabled reason or ''}.
--- @include "./trim-dead.lua"
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[3]) == 0 then return {0, ''} end
-- Trimmed back to the bound only once it is twice over: one LTRIM per bound pushes, not per push.
local length = redis.call('LPUSH', KEYS[2], ARGV[2])
-- attemptSeq numbers the list for cursors, as src/redis/numbered-list.ts reads it (a record
-- from before it counts what the list holds).
if redis.call('HEXISTS', KEYS[3], F.attemptSeq) == 0 then redis.call('HSET', KEYS[3], F.attemptSeq, length - 1) end
redis.call('HINCRBY', KEYS[3], F.attemptSeq, 1)
if length > 2 * tonumber(ARGV[3]) then
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
end
local kind = ARGV[4]
if kind ~= 'retry' then redis.call('ZREM', KEYS[6], ARGV[1]) end
if kind == 'ok' then
  redis.call('HINCRBY', KEYS[3], F.okCount, 1)
  redis.call('HSET', KEYS[3], F.lastOkAtMs, ARGV[10])
  if redis.call('HGET', KEYS[3], F.failures) ~= '0' then redis.call('HSET', KEYS[3], F.failures, '0') end
  return {0, ''}
end
redis.call('HINCRBY', KEYS[3], F.failCount, 1)
redis.call('HSET', KEYS[3], F.lastErrAtMs, ARGV[10], F.lastError, ARGV[11], F.lastErrStatus, ARGV[12])
if kind == 'retry' then return {tonumber(redis.call('HGET', KEYS[3], F.failures) or '0'), ''} end
redis.call('ZADD', KEYS[4], ARGV[6], ARGV[5])
redis.call('HSET', KEYS[5], ARGV[5], ARGV[7])
trimDead(KEYS[4], KEYS[5], tonumber(ARGV[8]))
local failures = redis.call('HINCRBY', KEYS[3], F.failures, 1)
local limit = tonumber(ARGV[9])
local reason = ''
if kind == 'gone' then reason = 'gone' elseif limit > 0 and failures >= limit then reason = 'failures' end
if reason ~= '' and redis.call('HGET', KEYS[3], F.status) == 'enabled' then
  redis.call('HSET', KEYS[3], F.status, 'disabled', F.disabledReason, reason, F.disabledAtMs, ARGV[10])
  return {failures, reason}
end
return {failures, ''}
