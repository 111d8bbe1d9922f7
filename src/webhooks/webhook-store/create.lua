-- KEYS: record, the user's id set, the user's event log, the user's webhook version. ARGV: max per user, id, field pairs.
-- `fromId` is read in the same script as the record is written, so that for any event either the
-- webhook existed when the event was logged or the event is at or before `fromId` (see
-- dispatcher.ts for why that makes the hand-over exact). Returns 0 when the user is at the limit.
if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[1]) then return 0 end
local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
local from = '0-0'
if last[1] then from = last[1][1] end
redis.call('HSET', KEYS[1], 'fromId', from, unpack(ARGV, 3))
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('INCR', KEYS[4])
return 1
