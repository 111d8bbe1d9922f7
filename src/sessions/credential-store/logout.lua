-- KEYS: the credential hash.
-- ARGV: reason, updatedAtMs. Returns the sealed token and origin that were stored (empty strings
-- when none). Writes a tombstone when nothing was stored: the generation must outlive the record.
local sealed = redis.call('HGET', KEYS[1], 'sealedToken') or ''
local origin = redis.call('HGET', KEYS[1], 'origin') or ''
redis.call('HDEL', KEYS[1], 'sealedToken', 'tokenExpiresAtMs', 'origin')
redis.call('HSET', KEYS[1], 'status', 'invalid', 'reason', ARGV[1], 'updatedAtMs', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'revision', 1)
redis.call('HINCRBY', KEYS[1], 'generation', 1)
return {sealed, origin}
