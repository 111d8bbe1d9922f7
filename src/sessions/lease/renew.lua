-- KEYS: lease, generation counter. ARGV: lease value, generation, ttl ms. Extends our lease; if
-- it expired and nobody was granted a newer one, takes it back (a Redis restart or a slow loop
-- is no reason to drop a working session). Returns 1, or 0 when the lease is someone else's.
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
if current then return 0 end
if tonumber(redis.call('GET', KEYS[2]) or '0') > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1
