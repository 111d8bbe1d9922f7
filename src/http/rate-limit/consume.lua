-- KEYS: the current window's counter, the previous window's counter. ARGV: limit, window ms, ms
-- elapsed in the current window. Counts the request only when it is allowed. Returns
-- `{allowed (0|1), current count, previous count}`. Both keys share one hash tag (keys.ts), so
-- the script is legal on Redis Cluster. The weighting matches `weightedPrevious` in rate-limit.ts.
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local elapsed = tonumber(ARGV[3])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
if math.floor(previous * (window - elapsed) / window) + current >= limit then
  return {0, current, previous}
end
current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], window * 2) end
return {1, current, previous}
