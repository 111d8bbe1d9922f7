-- KEYS: record, the user's webhook version. ARGV: enable ('1' | '0' | ''), now, field pairs to set. Returns 0 when absent.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] == '1' then
  redis.call('HSET', KEYS[1], 'status', 'enabled', 'failures', '0')
  redis.call('HDEL', KEYS[1], 'disabledReason', 'disabledAtMs')
elseif ARGV[1] == '0' and redis.call('HGET', KEYS[1], 'status') == 'enabled' then
  redis.call('HSET', KEYS[1], 'status', 'disabled', 'disabledReason', 'manual', 'disabledAtMs', ARGV[2])
end
redis.call('HSET', KEYS[1], 'updatedAtMs', ARGV[2], unpack(ARGV, 3))
redis.call('INCR', KEYS[2])
return 1
