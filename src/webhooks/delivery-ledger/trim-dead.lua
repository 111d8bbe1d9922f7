-- Included by the scripts that add dead letters: keeps the newest `max` of a dead-letter ZSET
-- (event id -> event time) and drops the bodies of the ones it removes from their HASH.
local function trimDead(zset, bodies, max)
  local extra = redis.call('ZCARD', zset) - max
  if extra > 0 then
    local old = redis.call('ZRANGE', zset, 0, extra - 1)
    redis.call('ZREMRANGEBYRANK', zset, 0, extra - 1)
    redis.call('HDEL', bodies, unpack(old))
  end
end
