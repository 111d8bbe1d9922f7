-- KEYS: lease. ARGV: holder value, ttl ms. Extends the lease only while it still holds exactly
-- this value. Returns 1 when extended, 0 when the lease is gone or someone else's.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
