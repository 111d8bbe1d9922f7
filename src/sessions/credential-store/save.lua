-- KEYS: the credential hash.
-- Replaces the record. ARGV: field/value pairs to set. Returns the new revision.
redis.call('HDEL', KEYS[1], 'tokenExpiresAtMs', 'username', 'reason')
redis.call('HSET', KEYS[1], unpack(ARGV))
local revision = redis.call('HINCRBY', KEYS[1], 'revision', 1)
return {revision, tonumber(redis.call('HGET', KEYS[1], 'generation') or '0')}
