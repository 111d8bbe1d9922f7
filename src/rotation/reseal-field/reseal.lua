-- Swaps the field only if it still holds the value that was read, so a re-sealed old value never
-- overwrites one written meanwhile (a new login, a rotated secret). KEYS: hash. ARGV: field,
-- expected sealed value, new sealed value.
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
