-- KEYS: hash, list. ARGV: counter field, entry, bound. Nothing when the hash is gone (its owner
-- was deleted meanwhile: no stray keys). A counter missing beside a non-empty list (data from
-- before numbering) starts at what the list holds.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local length = redis.call('LPUSH', KEYS[2], ARGV[2])
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then redis.call('HSET', KEYS[1], ARGV[1], length - 1) end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
return length
