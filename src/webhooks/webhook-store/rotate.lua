-- KEYS: record. ARGV: new sealed secret, now, grace end. Returns 0 when absent.
local current = redis.call('HGET', KEYS[1], 'secret')
if not current then return 0 end
redis.call('HSET', KEYS[1], 'prevSecret', current, 'prevSecretUntilMs', ARGV[3], 'secret', ARGV[1],
  'secretRotatedAtMs', ARGV[2], 'updatedAtMs', ARGV[2])
return 1
