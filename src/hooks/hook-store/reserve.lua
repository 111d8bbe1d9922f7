-- KEYS: the user's hook id set. ARGV: max, id. 1 when the id was added, 0 when full.
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[2])
return 1
