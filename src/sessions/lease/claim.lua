-- KEYS: lease, generation counter. ARGV: worker id, ttl ms, the lease value a dead holder left
-- ('' when none is known). Granted when the lease is free, held by this same worker id (a
-- previous incarnation: it gets a new generation, which fences the old one), or exactly the
-- dead holder's. Returns {1, generation} or {0, current value}.
local current = redis.call('GET', KEYS[1])
if current then
  local sep = string.find(current, ':', 1, true)
  local holder = sep and string.sub(current, sep + 1) or ''
  if holder ~= ARGV[1] and current ~= ARGV[3] then return {0, current} end
end
local generation = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], generation .. ':' .. ARGV[1], 'PX', ARGV[2])
return {1, tostring(generation)}
