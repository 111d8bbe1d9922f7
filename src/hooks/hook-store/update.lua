-- KEYS: record. ARGV: owner, now, fields to delete (count), those names, then field pairs.
if redis.call('HGET', KEYS[1], 'userId') ~= ARGV[1] then return 0 end
local deletes = tonumber(ARGV[3])
for i = 1, deletes do redis.call('HDEL', KEYS[1], ARGV[3 + i]) end
redis.call('HSET', KEYS[1], 'updatedAtMs', ARGV[2], unpack(ARGV, 4 + deletes))
return 1
