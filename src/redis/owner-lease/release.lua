-- KEYS: lease. ARGV: holder value. Deletes the lease only if it still holds exactly this value,
-- so a holder whose lease expired and went to another cannot delete its successor's.
-- Returns 1 when deleted, 0 otherwise.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
