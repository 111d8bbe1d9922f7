-- KEYS: the credential hash.
-- ARGV: expected revision ('' for any), reason, updatedAtMs. A missing record is left missing:
-- a credential removed meanwhile must not come back as a tombstone.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'revision') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'sealedToken', 'tokenExpiresAtMs', 'origin')
redis.call('HSET', KEYS[1], 'status', 'invalid', 'reason', ARGV[2], 'updatedAtMs', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'revision', 1)
return 1
