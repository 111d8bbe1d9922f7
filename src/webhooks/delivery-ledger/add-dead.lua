-- KEYS: record, dead, dead bodies. ARGV: max dead, then (event id, event time, body JSON)...
-- Nothing when the record is gone. Returns 1 when added.
--- @include "./trim-dead.lua"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 2, #ARGV, 3 do
  redis.call('ZADD', KEYS[2], ARGV[i + 1], ARGV[i])
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 2])
end
trimDead(KEYS[2], KEYS[3], tonumber(ARGV[1]))
return 1
