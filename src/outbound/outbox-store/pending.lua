-- KEYS: user key prefix, pending zset, seq counter. ARGV: after seq, limit.
-- Returns {newest seq given out, then per job: id, seq, data, attempt or ''}. A pending id
-- whose hash expired (it outlived the retention) is dropped from the set.
local out = {redis.call('GET', KEYS[3]) or '0'}
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf', 'WITHSCORES', 'LIMIT', 0, ARGV[2])
for i = 1, #ids, 2 do
  local f = redis.call('HMGET', KEYS[1] .. ids[i], 'data', 'attempt')
  if f[1] then
    out[#out + 1] = ids[i]
    out[#out + 1] = ids[i + 1]
    out[#out + 1] = f[1]
    out[#out + 1] = f[2] or ''
  else
    redis.call('ZREM', KEYS[2], ids[i])
  end
end
return out
